using System;
using System.IO;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Completes a pruned spec (<c>base: other.unet.yaml</c> + <c>removed:</c>) with its base's
    /// structure. Lookup is the caller's: the generator searches its AdditionalFiles, the runtime the disk.
    /// </summary>
    public static class SpecResolver
    {
        /// <summary>The file name a <c>base:</c> value refers to, compared without folders.</summary>
        public static string BaseFileName(string baseReference) => Path.GetFileName(baseReference.Replace('\\', '/'));

        public static SpecParseResult Resolve(SpecParseResult overlay, Func<string, SpecParseResult?> findBase)
        {
            var spec = overlay.Spec;
            if (spec?.Base == null || overlay.Diagnostics.Count > 0) return overlay;

            var found = findBase(spec.Base);
            if (found == null)
                return overlay with
                {
                    Diagnostics = new[]
                    {
                        new SpecDiagnostic(SpecDiagnosticIds.BaseNotFound, $"base spec '{spec.Base}' was not found next to {Path.GetFileName(overlay.Path)} (for a build, add it as a *.unet.yaml item too)",
                            overlay.Path, BaseSpan(spec)),
                    }.ToEquatableArray(),
                };
            if (!found.Success)
                return overlay with { Diagnostics = found.Diagnostics };
            if (found.Spec!.Base != null)
                return overlay with
                {
                    Diagnostics = new[]
                    {
                        new SpecDiagnostic(SpecDiagnosticIds.BaseNotFound, $"base spec '{spec.Base}' is itself a pruned spec; prune from the full model's spec and list every removed unit",
                            overlay.Path, BaseSpan(spec)),
                    }.ToEquatableArray(),
                };

            var baseMid = found.Spec.Mid;
            if (spec.MidReduction is MidKind reduction && reduction >= baseMid.Kind)
                return overlay with
                {
                    Diagnostics = new[]
                    {
                        new SpecDiagnostic(SpecDiagnosticIds.InvalidValue, $"mid: {SpecWriter.MidTypeName(reduction)} does not cut down the base's mid block ({SpecWriter.MidTypeName(baseMid.Kind)}); a pruned spec can only remove structure",
                            overlay.Path, spec.MidReductionSource.IsKnown ? spec.MidReductionSource : BaseSpan(spec)),
                    }.ToEquatableArray(),
                };
            var merged = found.Spec with
            {
                Mid = spec.MidReduction is MidKind kind ? new MidSpec { Kind = kind, Source = baseMid.Source } : baseMid,
                MidReduction = spec.MidReduction,
                MidReductionSource = spec.MidReductionSource,
                Name = spec.Name,
                Description = spec.Description ?? found.Spec.Description,
                Removed = found.Spec.Removed.Concat(spec.Removed).Distinct().ToEquatableArray(),
                Provenance = spec.Provenance,
                Base = spec.Base,
                BaseSource = spec.BaseSource,
                // positions in the overlay file, where the merged spec's problems are reported
                UnitMentions = spec.UnitMentions,
            };
            return overlay with { Spec = merged };
        }

        private static SourceSpan BaseSpan(UNetSpec overlay) => overlay.BaseSource.IsKnown ? overlay.BaseSource : new SourceSpan(1, 1, 1, 1);
    }
}
