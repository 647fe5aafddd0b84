using System;
using System.Collections.Immutable;
using System.Linq;
using LaptopDiff.Spec;

namespace LaptopDiff.Generators.Pipeline
{
    /// <summary>
    /// Every spec file of the build, by file name, for resolving <c>base:</c> references. A pruned spec's
    /// entry records only that it is pruned, so editing its removed list does not change the index and
    /// the other specs stay cached.
    /// </summary>
    internal sealed record BaseIndex(EquatableArray<BaseIndex.Entry> Entries)
    {
        /// <summary>A file <c>base:</c> can name: a full spec's parse result, or a pruned spec (<see cref="Parsed"/> null).</summary>
        internal sealed record Entry(string FileName, string Path, SpecParseResult? Parsed);

        public static readonly BaseIndex Empty = new BaseIndex(EquatableArray<Entry>.Empty);

        public static BaseIndex Create(ImmutableArray<SpecFile> files) =>
            new BaseIndex(files
                .OrderBy(f => f.Path, StringComparer.Ordinal)
                .Select(f => new Entry(f.FileName, f.Path, f.IsPruned ? null : f.Parsed))
                .ToEquatableArray());

        /// <summary>
        /// The file a <c>base:</c> value names: same file name, preferring one in the referencing file's
        /// folder, then an exact-case match; null when the build has none.
        /// </summary>
        public Entry? Find(string reference, string fromPath)
        {
            var name = SpecResolver.BaseFileName(reference);
            var folder = Folder(fromPath);
            return Entries
                .Where(e => string.Equals(e.FileName, name, StringComparison.OrdinalIgnoreCase))
                .OrderBy(e => Folder(e.Path) == folder ? 0 : 1)
                .ThenBy(e => e.FileName == name ? 0 : 1)
                .FirstOrDefault();
        }

        private static string Folder(string path)
        {
            var p = path.Replace('\\', '/');
            int i = p.LastIndexOf('/');
            return i < 0 ? "" : p.Substring(0, i);
        }
    }
}
