using System;
using System.Linq;
using System.Threading;
using LaptopDiff.Spec;
using Microsoft.CodeAnalysis;

namespace LaptopDiff.Generators.Pipeline
{
    /// <summary>
    /// One parsed <c>*.unet.yaml</c> file: the spec (null when unreadable), its diagnostics, and the line
    /// starts that place later diagnostics in the file. Equatable: an unchanged text gives an equal value.
    /// </summary>
    internal sealed record SpecFile(string Path, SpecParseResult Parsed, LineMap Lines, EquatableArray<DiagnosticInfo> InternalErrors)
    {
        public const string Extension = ".unet.yaml";

        public static bool IsSpec(string path) => path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase);

        /// <summary>The name <c>base:</c> references match: the file name without folders.</summary>
        public string FileName => SpecResolver.BaseFileName(Path);

        public bool IsPruned => Parsed.Spec?.Base != null;

        public EquatableArray<DiagnosticInfo> Diagnostics =>
            Parsed.Diagnostics.Select(d => DiagnosticInfo.From(d, Lines)).Concat(InternalErrors).ToEquatableArray();

        /// <summary>The parse step: text in, records out. Never throws (except for cancellation).</summary>
        public static SpecFile Parse(AdditionalText file, CancellationToken ct)
        {
            try
            {
                var text = file.GetText(ct);
                var parsed = SpecParser.Parse(file.Path, text?.ToString(), ct);
                return new SpecFile(file.Path, parsed, text == null ? LineMap.Empty : LineMap.Of(text), EquatableArray<DiagnosticInfo>.Empty);
            }
            catch (Exception e) when (!(e is OperationCanceledException))
            {
                return Failed(file.Path, TrackingNames.Parse, e);
            }
        }

        public static SpecFile Failed(string path, string step, Exception e) =>
            new SpecFile(path, new SpecParseResult(path, null, EquatableArray<SpecDiagnostic>.Empty), LineMap.Empty,
                new[] { DiagnosticInfo.Internal(path, step, e) }.ToEquatableArray());
    }
}
