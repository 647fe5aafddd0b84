using System.Security.Cryptography;

namespace LaptopDiff.Runtime.Calibration;

/// <summary>SHA-256 of file contents, written <c>sha256:</c> + 64 lowercase hex digits (as SpecHash writes hashes).</summary>
public static class FileDigest
{
    public const string Prefix = "sha256:";

    /// <summary>The hash of one file (the same digits as <c>sha256sum</c>).</summary>
    public static string Sha256(string path) => Sha256(new[] { path });

    /// <summary>The hash of the files' bytes read one after the other (shards in order).</summary>
    public static string Sha256(IEnumerable<string> paths)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var path in paths)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0) sha.AppendData(buffer, 0, read);
        }
        return Prefix + Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
