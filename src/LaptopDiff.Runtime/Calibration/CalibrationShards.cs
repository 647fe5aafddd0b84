using System.Globalization;
using System.Text.RegularExpressions;

namespace LaptopDiff.Runtime.Calibration;

/// <summary>
/// Finds the files of a calibration set: one <c>.safetensors</c> file, or shards named like Hugging Face's
/// <c>name-00001-of-00004.safetensors</c>. Any shard's path, <c>name.safetensors</c> when only the
/// shards exist, or the folder holding one set's shards (as <c>laptop-diff dataset</c> writes them) names the whole set.
/// </summary>
public static partial class CalibrationShards
{
    [GeneratedRegex(@"^(?<base>.+)-(?<index>\d{5})-of-(?<count>\d{5})\.safetensors$")]
    private static partial Regex ShardName();

    /// <summary>The set's files in order; throws <see cref="FileNotFoundException"/> naming what is missing.</summary>
    public static IReadOnlyList<string> Resolve(string path)
    {
        var full = Path.GetFullPath(path);
        var match = ShardName().Match(full);
        if (match.Success) return AllShards(match.Groups["base"].Value, int.Parse(match.Groups["count"].Value, CultureInfo.InvariantCulture), full);
        if (File.Exists(full)) return new[] { full };
        if (Directory.Exists(full)) return InFolder(full, path);

        // name.safetensors given, name-00001-of-0000N.safetensors on disk
        if (full.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) && Directory.Exists(Path.GetDirectoryName(full)))
        {
            var stem = full[..^".safetensors".Length];
            var first = Directory.GetFiles(Path.GetDirectoryName(full)!, Path.GetFileName(stem) + "-00001-of-*.safetensors")
                .Select(f => ShardName().Match(f)).FirstOrDefault(m => m.Success);
            if (first != null) return AllShards(stem, int.Parse(first.Groups["count"].Value, CultureInfo.InvariantCulture), full);
        }
        throw new FileNotFoundException($"calibration set '{path}' does not exist (neither as one file nor as shards NAME-00001-of-0000N.safetensors): check the path", path);
    }

    /// <summary>The one set of shards in a folder; none, or shards of several sets, is an error naming what is there.</summary>
    private static IReadOnlyList<string> InFolder(string folder, string given)
    {
        var shards = Directory.GetFiles(folder, "*.safetensors").Select(f => ShardName().Match(f)).Where(m => m.Success).ToList();
        var stems = shards.Select(m => (Stem: m.Groups["base"].Value, Count: m.Groups["count"].Value)).Distinct().ToList();
        if (stems.Count == 1) return AllShards(stems[0].Stem, int.Parse(stems[0].Count, CultureInfo.InvariantCulture), shards[0].Value);
        if (stems.Count == 0)
            throw new FileNotFoundException($"folder '{given}' holds no calibration shards NAME-00001-of-0000N.safetensors: name the set's file or a folder of its shards", given);
        throw new FileNotFoundException($"folder '{given}' holds shards of {stems.Count} sets ({string.Join(", ", stems.Select(s => Path.GetFileName(s.Stem)))}): name one set's shard", given);
    }

    private static IReadOnlyList<string> AllShards(string stem, int count, string given)
    {
        if (count < 1) throw new FileNotFoundException($"calibration shard name '{given}' says 0 shards", given);
        var files = Enumerable.Range(1, count)
            .Select(i => string.Create(CultureInfo.InvariantCulture, $"{stem}-{i:D5}-of-{count:D5}.safetensors")).ToList();
        var missing = files.Where(f => !File.Exists(f)).ToList();
        if (missing.Count > 0)
            throw new FileNotFoundException(
                $"calibration set '{given}' has {count} shards but {missing.Count} are missing: {string.Join(", ", missing.Take(3).Select(Path.GetFileName))}" +
                (missing.Count > 3 ? $" and {missing.Count - 3} more" : ""), missing[0]);
        return files;
    }
}
