using System.Globalization;
using LaptopDiff.Spec;

namespace LaptopDiff.Tests.Shared;

/// <summary>
/// Reads a diffusers fixture key listing (<c>NAME.keys.tsv</c>): <c>key, d0,d1,..., numel</c> per tensor in
/// state-dict order, last line <c>total N</c>. Compiled into each test project that compares against one.
/// </summary>
internal static class KeyListingFile
{
    public static (List<(string Name, string Shape)> Keys, long Total) Read(string path)
    {
        var keys = new List<(string, string)>();
        long total = -1;
        foreach (var line in File.ReadLines(path))
        {
            var cols = line.Split('\t');
            if (cols[0] == "total") total = long.Parse(cols[1], CultureInfo.InvariantCulture);
            else keys.Add((cols[0], cols[1]));
        }
        return (keys, total);
    }

    /// <summary>The same listing as tensor keys (name and shape).</summary>
    public static (List<TensorKey> Keys, long Total) ReadTensorKeys(string path)
    {
        var (keys, total) = Read(path);
        return (keys.Select(k => new TensorKey(k.Name,
            (k.Shape.Length == 0 ? Array.Empty<long>() : k.Shape.Split(',').Select(d => long.Parse(d, CultureInfo.InvariantCulture))).ToEquatableArray())).ToList(), total);
    }
}
