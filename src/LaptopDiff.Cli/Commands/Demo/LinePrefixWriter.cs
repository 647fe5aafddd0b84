using System.Text;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// Passes whole lines to <paramref name="inner"/>, each starting with <paramref name="prefix"/>: concurrent stages share
/// one console without their lines mixing. A last unfinished line is written on dispose.
/// </summary>
public sealed class LinePrefixWriter(TextWriter inner, string prefix) : TextWriter
{
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        if (value == '\n') EndLine();
        else if (value != '\r') _line.Append(value);
    }

    public override void Write(string? value)
    {
        foreach (char c in value ?? "") Write(c);
    }

    public override void WriteLine(string? value)
    {
        Write(value);
        EndLine();
    }

    private void EndLine()
    {
        inner.WriteLine(prefix + _line);
        _line.Clear();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _line.Length > 0) EndLine();
        base.Dispose(disposing);
    }
}
