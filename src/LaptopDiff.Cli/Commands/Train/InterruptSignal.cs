using System.Runtime.InteropServices;

namespace LaptopDiff.Cli.Commands.Train;

/// <summary>
/// Turns SIGINT (Ctrl+C) and SIGTERM into a cancellation the training loop sees between steps, so it
/// writes a checkpoint and exits cleanly instead of being killed mid-step. Only in the real process
/// (tests run the CLI in-process and must not capture the test host's signals).
/// </summary>
internal sealed class InterruptSignal : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly List<PosixSignalRegistration> _registrations = [];

    public InterruptSignal(bool listen)
    {
        if (!listen) return;
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                if (_source.IsCancellationRequested) return;                 // a second Ctrl+C kills as usual
                context.Cancel = true;
                _source.Cancel();
                Console.Error.WriteLine($"[laptop-diff] {context.Signal}: finishing the current step and writing a checkpoint (again to kill)");
            }));
    }

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _source.Dispose();
    }
}
