using System;
using System.Linq;
using System.Threading;
using LaptopDiff.Spec;

namespace LaptopDiff.Generators.Pipeline
{
    /// <summary>The build step: expands a resolved spec into its layout and the emit model.</summary>
    internal static class ModelBuilder
    {
        /// <summary>Never throws (except for cancellation): an unexpected exception becomes LD9999 on the file.</summary>
        public static BuildResult Build(ResolvedSpec resolved, GeneratorOptions options, CancellationToken ct)
        {
            try
            {
                if (resolved.Spec == null) return new BuildResult(resolved.Path, null, resolved.Diagnostics);

                if (resolved.BaseSpec != null)
                {
                    // The base's own problems are reported on the base file; here only say it is unusable.
                    var (baseLayout, _) = LayoutBuilder.Build(resolved.BaseSpec, resolved.BasePath ?? "");
                    if (baseLayout == null)
                        return Failed(resolved, new SpecDiagnostic(SpecDiagnosticIds.BaseNotFound, $"base spec '{resolved.Spec.Base}' has errors (reported on {SpecResolver.BaseFileName(resolved.BasePath ?? "")}); fix them first",
                            resolved.Path, resolved.Spec.BaseSource.IsKnown ? resolved.Spec.BaseSource : new SourceSpan(1, 1, 1, 1)));
                }

                ct.ThrowIfCancellationRequested();
                var (layout, diagnostics) = LayoutBuilder.Build(resolved.Spec, resolved.Path);
                if (layout == null)
                    return new BuildResult(resolved.Path, null, diagnostics.Select(d => DiagnosticInfo.From(d, resolved.Lines)).ToEquatableArray());
                return new BuildResult(resolved.Path, ToModel(layout, resolved, options), EquatableArray<DiagnosticInfo>.Empty);
            }
            catch (Exception e) when (!(e is OperationCanceledException))
            {
                return new BuildResult(resolved.Path, null, new[] { DiagnosticInfo.Internal(resolved.Path, TrackingNames.Build, e) }.ToEquatableArray());
            }
        }

        private static BuildResult Failed(ResolvedSpec resolved, SpecDiagnostic d) =>
            new BuildResult(resolved.Path, null, new[] { DiagnosticInfo.From(d, resolved.Lines) }.ToEquatableArray());

        private static UNetClassModel ToModel(UNetLayout layout, ResolvedSpec resolved, GeneratorOptions options) =>
            new UNetClassModel(
                Namespace: options.Namespace,
                ClassName: GeneratorOptions.Identifier(layout.Spec.Name),
                SpecFileName: SpecResolver.BaseFileName(resolved.Path),
                BaseFileName: resolved.BasePath != null ? SpecResolver.BaseFileName(resolved.BasePath) : null,
                Layout: layout with { Spec = layout.Spec.WithoutSources() });
    }
}
