using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pruning.Additivity;

/// <summary>
/// The noisy U-Net inputs the check averages over, in batches, held in memory (the teacher and every
/// subset see exactly the same x_t, t, c). Owns its tensors; dispose it.
/// </summary>
public sealed class AdditivityInputs : IDisposable
{
    private readonly List<UNetInputs> _batches;

    /// <summary>Takes ownership of <paramref name="batches"/> (tensors detached from any dispose scope).</summary>
    public AdditivityInputs(IEnumerable<UNetInputs> batches, string source, string? calibrationHash = null)
    {
        _batches = batches.ToList();
        if (_batches.Count == 0) throw new ArgumentException("the check needs at least one input batch", nameof(batches));
        Source = source;
        CalibrationHash = calibrationHash;
    }

    public IReadOnlyList<UNetInputs> Batches => _batches;
    /// <summary>Samples over all batches.</summary>
    public int Count => _batches.Sum(b => (int)b.Sample.shape[0]);
    /// <summary>Where the inputs came from, for the report.</summary>
    public string Source { get; }
    public string? CalibrationHash { get; }

    /// <summary>The calibration file at <paramref name="path"/>, checked against <paramref name="layout"/>, noised as <see cref="FromCalibration"/> does.</summary>
    public static AdditivityInputs Load(string path, UNetLayout layout, NoisingSettings noising, int batchSize)
    {
        using var set = CalibrationSet.Load(path, layout);
        return FromCalibration(set, noising, batchSize);
    }

    /// <summary>
    /// A calibration set noised exactly like the sweep (<see cref="CalibrationNoising"/>), so a criterion swept
    /// on the same set and seed is measured on the same x_t.
    /// </summary>
    public static AdditivityInputs FromCalibration(CalibrationSet set, NoisingSettings noising, int batchSize)
    {
        if (batchSize < 1) throw new SettingException(nameof(batchSize), batchSize, "must be at least 1");
        noising = noising.For(set);
        var noise = new CalibrationNoising(set.Count, noising);
        var batches = new List<UNetInputs>();
        for (int start = 0; start < set.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var b = noise.Inputs(set, start, Math.Min(batchSize, set.Count - start));
            // copies, so the inputs outlive the set and stay contiguous
            batches.Add(new UNetInputs(Own(b.Sample)!, Own(b.Timestep)!, Own(b.EncoderHiddenStates)!, Own(b.TextEmbeds), Own(b.TimeIds)));
        }
        return new AdditivityInputs(batches, $"calibration {set.Path} ({set.Count} samples, {noising})", set.Hash);
    }

    /// <summary>
    /// <paramref name="samples"/> synthetic samples: a seeded synthetic calibration set (the same one
    /// <c>laptop-diff calibration --synthetic</c> writes, through a temporary file) noised like the sweep.
    /// </summary>
    public static AdditivityInputs Synthetic(UNetLayout layout, int samples, long seed, int batchSize, int tokens = 77, NoiseSchedule? schedule = null)
    {
        if (samples < 1) throw new SettingException(nameof(samples), samples, "must be at least 1");
        string temp = Path.Combine(Path.GetTempPath(), $"laptopdiff-additivity-{Guid.NewGuid():N}.safetensors");
        try
        {
            SyntheticCalibration.Write(temp, layout, new SyntheticCalibrationOptions { Samples = samples, Seed = seed, Tokens = tokens });
            using var set = CalibrationSet.Load(temp, layout);
            var inputs = FromCalibration(set, new NoisingSettings { Seed = seed, Schedule = schedule ?? NoiseSchedule.StableDiffusion }, batchSize);
            return new AdditivityInputs(inputs._batches, $"synthetic ({samples} samples, seed {seed})", calibrationHash: null);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// Moves every batch to <paramref name="device"/> (a model's, <see cref="UNet2DCondition.Device"/>); returns this. The inputs are
    /// made on the CPU, so the same x_t, t, c reach the model whatever its device.
    /// </summary>
    public AdditivityInputs MoveTo(Device device)
    {
        for (int i = 0; i < _batches.Count; i++)
        {
            var b = _batches[i];
            _batches[i] = b.To(device);
            foreach (var t in _batches[i].All()) t.DetachFromDisposeScope();
            Dispose(b);
        }
        return this;
    }

    public void Dispose()
    {
        foreach (var b in _batches) Dispose(b);
        _batches.Clear();
    }

    private static void Dispose(UNetInputs b)
    {
        foreach (var t in b.All()) t.Dispose();
    }

    private static Tensor? Own(Tensor? t) => t?.clone().DetachFromDisposeScope();
}
