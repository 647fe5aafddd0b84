using LaptopDiff.Runtime.Inputs;

namespace LaptopDiff.Runtime.Weights;

/// <summary>
/// Writes a new folder so that it appears complete or not at all: it is filled under a hidden temporary name beside the
/// target (same file system, so the final rename is atomic) and removed again if filling fails. An existing target is
/// refused, never merged into.
/// </summary>
public static class AtomicFolder
{
    /// <summary>The target's full path, after checking that nothing is there yet.</summary>
    /// <exception cref="InputException">A file or folder already exists at <paramref name="directory"/>.</exception>
    public static string RequireNew(string directory)
    {
        var target = Path.GetFullPath(directory);
        if (Directory.Exists(target) || File.Exists(target))
            throw new InputException($"'{target}' already exists; remove it or choose another output folder");
        return target;
    }

    /// <summary>Runs <paramref name="fill"/> on the temporary folder, then renames it to <paramref name="directory"/>.</summary>
    public static T Write<T>(string directory, Func<string, T> fill)
    {
        var target = RequireNew(directory);
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(target)}.partial-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            var result = fill(temp);
            Directory.Move(temp, target);
            return result;
        }
        catch
        {
            try { Directory.Delete(temp, recursive: true); }
            catch (IOException) { /* keep the original error */ }
            throw;
        }
    }

    public static void Write(string directory, Action<string> fill) => Write(directory, temp => { fill(temp); return true; });
}
