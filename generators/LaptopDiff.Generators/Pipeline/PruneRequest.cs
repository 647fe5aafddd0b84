using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using LaptopDiff.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace LaptopDiff.Generators.Pipeline
{
    /// <summary>
    /// One <c>&lt;LaptopDiffPrune Include="x.unet.yaml" Criterion="x.criterion.json" Ratios="0.3;0.5" /&gt;</c> item, as the
    /// generator sees it: build/LaptopDiff.targets adds the criterion file as an AdditionalFile whose metadata
    /// (<see cref="SpecMetadata"/>, <see cref="RatiosMetadata"/>, <see cref="NamesMetadata"/>) says which spec to prune
    /// and at which ratios. The criterion is parsed here (positioned LD0014 diagnostics); equatable, so an
    /// unchanged file and unchanged metadata reuse everything downstream.
    /// </summary>
    internal sealed record PruneRequest(
        string CriterionPath, string SpecReference, string RatiosText, string? NamesText,
        CriterionFile? Criterion, string CriterionHash, LineMap Lines, EquatableArray<DiagnosticInfo> Diagnostics)
    {
        public const string SpecMetadata = "build_metadata.AdditionalFiles.LaptopDiffPruneSpec";
        public const string RatiosMetadata = "build_metadata.AdditionalFiles.LaptopDiffPruneRatios";
        public const string NamesMetadata = "build_metadata.AdditionalFiles.LaptopDiffPruneNames";

        /// <summary>The request an AdditionalFile carries, or null when it is no criterion of a LaptopDiffPrune item. Never throws (except for cancellation).</summary>
        public static PruneRequest? Read(AdditionalText file, AnalyzerConfigOptions options, CancellationToken ct)
        {
            if (!options.TryGetValue(SpecMetadata, out var spec) || string.IsNullOrWhiteSpace(spec)) return null;
            options.TryGetValue(RatiosMetadata, out var ratios);
            options.TryGetValue(NamesMetadata, out var names);
            try
            {
                var text = file.GetText(ct);
                var lines = text == null ? LineMap.Empty : LineMap.Of(text);
                var content = text?.ToString();
                var (criterion, diagnostics) = CriterionReader.Parse(file.Path, content, ct);
                return new PruneRequest(file.Path, spec.Trim(), ratios ?? "", string.IsNullOrWhiteSpace(names) ? null : names,
                    criterion, content == null ? "" : SpecHash.OfText(content), lines,
                    diagnostics.Select(d => DiagnosticInfo.From(d, lines)).ToEquatableArray());
            }
            catch (Exception e) when (!(e is OperationCanceledException))
            {
                return new PruneRequest(file.Path, spec.Trim(), ratios ?? "", names, null, "", LineMap.Empty,
                    new[] { DiagnosticInfo.Internal(file.Path, TrackingNames.PruneParse, e) }.ToEquatableArray());
            }
        }
    }

    /// <summary>What a prune request gives: one resolved pruned spec per ratio (built like any pruned spec), or the diagnostics that say why not.</summary>
    internal sealed record PruneOutcome(EquatableArray<ResolvedSpec> Specs, EquatableArray<DiagnosticInfo> Diagnostics)
    {
        /// <summary>
        /// The solve step: the base spec from the build's specs, then <see cref="FrontierPlanner"/> (the same planner as
        /// <c>laptop-diff prune</c>) over the item's ratios and names, its diagnostics said in the item's terms and placed in
        /// the criterion file. Never throws (except for cancellation).
        /// </summary>
        public static PruneOutcome Solve(PruneRequest request, BaseIndex index, CancellationToken ct)
        {
            var diagnostics = new List<DiagnosticInfo>(request.Diagnostics);
            try
            {
                if (request.Criterion == null) return Done(null, diagnostics);
                var item = $"<LaptopDiffPrune Include=\"{request.SpecReference}\">";
                var entry = Find(index, request.SpecReference, request.CriterionPath);
                if (entry == null)
                    return Fail(diagnostics, request, SpecDiagnosticIds.BaseNotFound,
                        $"{item}: spec '{request.SpecReference}' is not among the build's *.unet.yaml AdditionalFiles; add it (or fix the Include path)");
                if (entry.Parsed == null)
                    return Fail(diagnostics, request, SpecDiagnosticIds.CriterionMismatch,
                        $"{item}: {entry.FileName} is itself a pruned spec; prune the full model's spec with a criterion measured on it");
                if (!entry.Parsed.Success || entry.Parsed.Spec == null)
                    return Fail(diagnostics, request, SpecDiagnosticIds.BaseNotFound, $"{item}: spec {entry.FileName} has errors (reported on it); fix them first");
                var (baseLayout, _) = LayoutBuilder.Build(entry.Parsed.Spec, entry.Path);
                if (baseLayout == null)
                    return Fail(diagnostics, request, SpecDiagnosticIds.BaseNotFound, $"{item}: spec {entry.FileName} has errors (reported on it); fix them first");

                ct.ThrowIfCancellationRequested();
                var ratios = PruneRatios.Parse(new[] { request.RatiosText }, ';', ',');
                var names = request.NamesText?.Split(';', ',').Select(n => n.Trim()).Where(n => n.Length > 0).ToList();
                var points = ratios.Select((r, i) => (Ratio: r, Name: names != null && i < names.Count ? names[i] : null))
                    .Where(x => x.Ratio.Value != null)
                    .Select(x => new FrontierPoint(x.Ratio.Value!.Value, x.Ratio.Text, x.Name,
                        request.CriterionPath + "#" + (x.Name ?? "ratio " + x.Ratio.Text), entry.FileName));
                bool namesFit = names == null || names.Count == ratios.Count;
                var plan = FrontierPlanner.Plan(baseLayout, entry.Parsed, request.Criterion, request.CriterionHash, namesFit ? points : Enumerable.Empty<FrontierPoint>(), "build time", ct);
                if (plan.Diagnostics.Count > 0) return Done(null, diagnostics.Concat(plan.Diagnostics.Select(d => DiagnosticInfo.From(d, request.Lines))).ToList());

                foreach (var bad in ratios.Where(r => r.Problem != null))
                    diagnostics.Add(Info(request, SpecDiagnosticIds.InfeasibleRatio, $"{item} Ratios=\"{request.RatiosText}\": {bad.Problem}" +
                        (bad.Problem!.EndsWith("is not a number", StringComparison.Ordinal) ? "; give fractions such as 0.3;0.5" : "")));
                if (ratios.Count == 0)
                    diagnostics.Add(Info(request, SpecDiagnosticIds.InfeasibleRatio, $"{item} has no Ratios; give them as Ratios=\"0.3;0.5\""));
                if (!namesFit)
                    return Fail(diagnostics, request, SpecDiagnosticIds.InvalidName,
                        $"{item}: Names=\"{request.NamesText}\" gives {names!.Count} name{(names.Count == 1 ? "" : "s")} for {ratios.Count} ratio{(ratios.Count == 1 ? "" : "s")}; give one class name per ratio, in order");
                foreach (var point in plan.Points)
                    diagnostics.AddRange(point.Diagnostics.Select(d => InItem(request, item, point.Point, d)));
                var specs = plan.Specs.Select(p => new ResolvedSpec(p.Point.Path, p.Layout.Spec, entry.Parsed.Spec, entry.Path, LineMap.Empty, EquatableArray<DiagnosticInfo>.Empty));
                return new PruneOutcome(specs.ToEquatableArray(), diagnostics.ToEquatableArray());
            }
            catch (Exception e) when (!(e is OperationCanceledException))
            {
                diagnostics.Add(DiagnosticInfo.Internal(request.CriterionPath, TrackingNames.PruneSolve, e));
                return Done(null, diagnostics);
            }
        }

        /// <summary>A planner diagnostic of one point in the item's words, placed in the criterion file.</summary>
        private static DiagnosticInfo InItem(PruneRequest request, string item, FrontierPoint point, SpecDiagnostic d)
        {
            var message = d.Id switch
            {
                SpecDiagnosticIds.InfeasibleRatio => $"{item} Ratios=\"{request.RatiosText}\": {d.Message}",
                SpecDiagnosticIds.InvalidName => $"{item} Names=\"{request.NamesText}\": {d.Message}",
                SpecDiagnosticIds.DuplicateName => $"{item}: {d.Message}; use distinct ratios or Names",
                _ => $"{item} at ratio {point.RatioText}: {d.Message}",
            };
            return d.Path == request.CriterionPath ? DiagnosticInfo.From(d with { Message = message }, request.Lines) : Info(request, d.Id, message);
        }

        /// <summary>The spec an item names: same full path (folders and case normalised), else the same file name near the criterion.</summary>
        private static BaseIndex.Entry? Find(BaseIndex index, string reference, string criterionPath)
        {
            var normalized = Normalize(reference);
            return index.Entries.FirstOrDefault(e => string.Equals(Normalize(e.Path), normalized, StringComparison.OrdinalIgnoreCase))
                   ?? index.Find(reference, criterionPath);
        }

        private static string Normalize(string path) => path.Replace('\\', '/');

        private static DiagnosticInfo Info(PruneRequest request, string id, string message) =>
            DiagnosticInfo.From(new SpecDiagnostic(id, message, request.CriterionPath, default), request.Lines);

        private static PruneOutcome Fail(List<DiagnosticInfo> diagnostics, PruneRequest request, string id, string message)
        {
            diagnostics.Add(Info(request, id, message));
            return Done(null, diagnostics);
        }

        private static PruneOutcome Done(List<ResolvedSpec>? specs, List<DiagnosticInfo> diagnostics) =>
            new PruneOutcome((specs ?? new List<ResolvedSpec>()).ToEquatableArray(), diagnostics.ToEquatableArray());
    }
}
