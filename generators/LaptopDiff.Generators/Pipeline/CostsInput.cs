using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using LaptopDiff.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace LaptopDiff.Generators.Pipeline
{
    /// <summary>
    /// A costs file of a <c>&lt;LaptopDiffPrune Budget="latency" Costs="x.costs.json"&gt;</c> item: build/LaptopDiff.targets adds it
    /// as an AdditionalFile marked by <see cref="CostsMetadata"/>; parsed here once (positioned LD0017 diagnostics), however
    /// many items use it.
    /// </summary>
    internal sealed record CostsInput(string Path, CostsFile? File, LineMap Lines, EquatableArray<DiagnosticInfo> Diagnostics)
    {
        public const string CostsMetadata = "build_metadata.AdditionalFiles.LaptopDiffCosts";

        /// <summary>The costs file an AdditionalFile is, or null when it is none. Never throws (except for cancellation).</summary>
        public static CostsInput? Read(AdditionalText file, AnalyzerConfigOptions options, CancellationToken ct)
        {
            if (!options.TryGetValue(CostsMetadata, out var marked) || !string.Equals(marked, "true", StringComparison.OrdinalIgnoreCase)) return null;
            try
            {
                var text = file.GetText(ct);
                var lines = text == null ? LineMap.Empty : LineMap.Of(text);
                var (costs, diagnostics) = CostsReader.Parse(file.Path, text?.ToString(), ct);
                return new CostsInput(file.Path, costs, lines, diagnostics.Select(d => DiagnosticInfo.From(d, lines)).ToEquatableArray());
            }
            catch (Exception e) when (!(e is OperationCanceledException))
            {
                return new CostsInput(file.Path, null, LineMap.Empty, new[] { DiagnosticInfo.Internal(file.Path, TrackingNames.CostsParse, e) }.ToEquatableArray());
            }
        }
    }

    /// <summary>Every costs file of the build, for the items that name one.</summary>
    internal sealed record CostsIndex(EquatableArray<CostsInput> Files)
    {
        public static CostsIndex Create(ImmutableArray<CostsInput> files) =>
            new CostsIndex(files.OrderBy(f => f.Path, StringComparer.Ordinal).ToEquatableArray());

        /// <summary>The file an item's <c>Costs</c> names: the same path, or the only one whose path ends with it.</summary>
        public CostsInput? Find(string reference)
        {
            var wanted = Normalize(reference);
            return Files.FirstOrDefault(f => string.Equals(Normalize(f.Path), wanted, StringComparison.OrdinalIgnoreCase))
                   ?? Files.FirstOrDefault(f => Normalize(f.Path).EndsWith("/" + wanted.TrimStart('.', '/'), StringComparison.OrdinalIgnoreCase));
        }

        private static string Normalize(string path) => path.Replace('\\', '/');
    }
}
