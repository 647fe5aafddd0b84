using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Cli.IO;

/// <summary>Text outputs (specs, JSON reports) written atomically, like weights.</summary>
public static class TextOutputs
{
    public static void Write(string path, string text)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");
        AtomicFile.WriteText(path, text);
    }
}
