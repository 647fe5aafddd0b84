using System.Security.Cryptography;
using System.Text;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Content hashes that tie a criterion file to the spec it was measured on, and a pruned spec to the
    /// criterion it came from: <c>sha256:</c> followed by 64 lowercase hex digits.
    /// </summary>
    public static class SpecHash
    {
        public const string Prefix = "sha256:";

        /// <summary>
        /// The hash of a spec's structure: its canonical text (<see cref="SpecWriter.Write"/>) with name,
        /// description, removals, provenance and base cleared. A renamed or re-described spec keeps its hash;
        /// anything that changes units or their parameters (stages, channels, granularity, pinned units) does not.
        /// </summary>
        public static string Compute(UNetSpec spec) =>
            OfText(SpecWriter.Write(spec with
            {
                Name = "",
                Description = null,
                Removed = EquatableArray<string>.Empty,
                Provenance = null,
                Base = null,
            }));

        /// <summary>
        /// The hash of a text's UTF-8 bytes after turning CRLF into LF, so a file checked out on Windows
        /// hashes as on Linux (and the writer's <see cref="System.Environment.NewLine"/> does not matter).
        /// </summary>
        public static string OfText(string text)
        {
            using var sha = SHA256.Create();
            var digest = sha.ComputeHash(Encoding.UTF8.GetBytes(text.Replace("\r\n", "\n")));
            var hex = new StringBuilder(Prefix, Prefix.Length + 64);
            foreach (var b in digest) hex.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            return hex.ToString();
        }

        /// <summary>Whether <paramref name="hash"/> has the form <c>sha256:</c> + 64 lowercase hex digits.</summary>
        public static bool IsWellFormed(string? hash)
        {
            if (hash == null || hash.Length != Prefix.Length + 64 || !hash.StartsWith(Prefix, System.StringComparison.Ordinal)) return false;
            for (int i = Prefix.Length; i < hash.Length; i++)
            {
                char c = hash[i];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
            }
            return true;
        }
    }
}
