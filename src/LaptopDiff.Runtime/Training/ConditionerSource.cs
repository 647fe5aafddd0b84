using System.Globalization;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Runtime.Inputs;

namespace LaptopDiff.Runtime.Training;

/// <summary>Where a run's class conditioner comes from: a new one (<c>new:CLASSES:TOKENS</c>) or a file.</summary>
public sealed record ConditionerSource(int Classes, int Tokens, string? File)
{
    /// <summary><c>new:CLASSES:TOKENS</c> or a conditioner file path; malformed <c>new:</c> text is a <see cref="SettingException"/>.</summary>
    public static ConditionerSource Parse(string text)
    {
        if (!text.StartsWith("new:", StringComparison.Ordinal)) return new ConditionerSource(0, 0, text);
        var parts = text.Split(':');
        if (parts.Length != 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int classes) || classes < 1
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int tokens) || tokens < 1)
            throw new SettingException(nameof(TrainRequest.Conditioner), text, "must be new:CLASSES:TOKENS with positive integers (e.g. new:10:4) or a conditioner file");
        return new ConditionerSource(classes, tokens, null);
    }

    /// <summary>Builds (the caller seeds its weights) or loads the conditioner for a model of width <paramref name="dim"/>.</summary>
    public ClassConditioner Create(int dim)
    {
        if (File == null) return new ClassConditioner(Classes, Tokens, dim);
        var loaded = ClassConditioner.Load(File);
        if (loaded.Dim != dim)
        {
            loaded.Dispose();
            throw new InputException($"conditioner '{File}' has width {loaded.Dim}; the model's cross_attention_dim is {dim}");
        }
        return loaded;
    }

    /// <summary>For the run identity: the new conditioner's shape, or the file's hash.</summary>
    public string IdentityText => File == null ? $"new:{Classes}:{Tokens}" : FileDigest.Sha256(File);
}
