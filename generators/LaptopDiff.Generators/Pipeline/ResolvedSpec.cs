using System;
using System.Linq;
using System.Threading;
using LaptopDiff.Spec;

namespace LaptopDiff.Generators.Pipeline
{
    /// <summary>
    /// A spec ready to expand: a full spec as parsed, or a pruned spec merged with its base
    /// (<see cref="BaseSpec"/> kept to tell the base's own problems from the overlay's).
    /// <see cref="Spec"/> is null when <see cref="Diagnostics"/> say why.
    /// </summary>
    internal sealed record ResolvedSpec(
        string Path, UNetSpec? Spec, UNetSpec? BaseSpec, string? BasePath, LineMap Lines, EquatableArray<DiagnosticInfo> Diagnostics)
    {
        /// <summary>The resolve step. Never throws (except for cancellation).</summary>
        public static ResolvedSpec Resolve(SpecFile file, BaseIndex index, CancellationToken ct)
        {
            try
            {
                var diagnostics = file.Diagnostics;
                var spec = file.Parsed.Spec;
                if (diagnostics.Count > 0 || spec == null) return Failed(file, diagnostics);
                if (spec.Base == null) return new ResolvedSpec(file.Path, spec, null, null, file.Lines, diagnostics);

                ct.ThrowIfCancellationRequested();
                var entry = index.Find(spec.Base, file.Path);
                if (entry == null && spec.Base.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                    return Failed(file, Single(file, spec,
                        $"base spec '{spec.Base}' is a diffusers config.json: JSON bases are a runtime feature (laptop-diff and the runtime's SpecFiles " +
                        "read them), the build resolves *.unet.yaml bases only; to compile this spec, convert the base with 'laptop-diff import-diffusers' and name the .unet.yaml"));
                if (entry?.Parsed is { Success: false })
                    // the base reports its own errors; repeating them here would point into the wrong file
                    return Failed(file, Single(file, spec, $"base spec '{spec.Base}' has errors (reported on {entry.FileName}); fix them first"));

                var resolved = SpecResolver.Resolve(file.Parsed, _ =>
                    entry == null ? null
                    : entry.Parsed ?? new SpecParseResult(entry.Path, new UNetSpec { Name = "pruned", Base = "(pruned)" }, EquatableArray<SpecDiagnostic>.Empty));
                if (resolved.Diagnostics.Count > 0 || resolved.Spec == null)
                    return Failed(file, resolved.Diagnostics.Select(d => DiagnosticInfo.From(d, file.Lines)).ToEquatableArray());
                return new ResolvedSpec(file.Path, resolved.Spec, entry!.Parsed!.Spec, entry.Path, file.Lines, EquatableArray<DiagnosticInfo>.Empty);
            }
            catch (Exception e) when (!(e is OperationCanceledException))
            {
                return Failed(file, new[] { DiagnosticInfo.Internal(file.Path, TrackingNames.Resolve, e) }.ToEquatableArray());
            }
        }

        private static ResolvedSpec Failed(SpecFile file, EquatableArray<DiagnosticInfo> diagnostics) =>
            new ResolvedSpec(file.Path, null, null, null, file.Lines, diagnostics);

        private static EquatableArray<DiagnosticInfo> Single(SpecFile file, UNetSpec spec, string message) =>
            new[]
            {
                DiagnosticInfo.From(new SpecDiagnostic(SpecDiagnosticIds.BaseNotFound, message, file.Path, spec.BaseSource.IsKnown ? spec.BaseSource : new SourceSpan(1, 1, 1, 1)), file.Lines),
            }.ToEquatableArray();
    }
}
