using System.Security.Cryptography;
using System.Text;

namespace LaptopDiff.Runtime.Weights;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new one: the content goes
/// to a temporary file in the same folder (same file system, so the rename is atomic), is flushed to
/// disk, and then replaces the target. On failure the temporary file is removed and the target is untouched.
/// </summary>
public static class AtomicFile
{
    /// <summary>Text as UTF-8 without a byte-order mark.</summary>
    public static void WriteText(string path, string text) =>
        Write(path, stream => stream.Write(new UTF8Encoding(false).GetBytes(text)));

    public static void Write(string path, Action<Stream> write)
    {
        string target = Path.GetFullPath(path);
        string temp = $"{target}.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                write(stream);
                // Durable before visible: without this a crash after the rename could leave a hollow file.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* keep the original error */ }
            throw;
        }
    }
}
