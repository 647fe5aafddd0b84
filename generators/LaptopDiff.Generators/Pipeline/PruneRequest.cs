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
        /// The solve step: the base spec from the build's specs, the criterion checked against its layout (LD0015), each
        /// ratio solved by the exact knapsack (LD0016 when unreachable), the overlay YAML built by <see cref="PrunedSpecBuilder"/>
        /// and resolved on the base exactly as a <c>base:</c> + <c>removed:</c> file would be. Never throws (except for cancellation).
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
                var mismatch = request.Criterion.CheckAgainst(baseLayout);
                if (mismatch.Count > 0) return Done(null, diagnostics.Concat(mismatch.Select(d => DiagnosticInfo.From(d, request.Lines))).ToList());

                var ratios = ParseRatios(request, item, diagnostics);
                var names = request.NamesText?.Split(';', ',').Select(n => n.Trim()).Where(n => n.Length > 0).ToList();
                if (names != null && names.Count != ratios.Count)
                    return Fail(diagnostics, request, SpecDiagnosticIds.InvalidName,
                        $"{item}: Names=\"{request.NamesText}\" gives {names.Count} name{(names.Count == 1 ? "" : "s")} for {ratios.Count} ratio{(ratios.Count == 1 ? "" : "s")}; give one class name per ratio, in order");

                var specs = new List<ResolvedSpec>();
                var classes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                for (int i = 0; i < ratios.Count; i++)
                {
                    ct.ThrowIfCancellationRequested();
                    var (ratio, ratioText) = ratios[i];
                    if (ratio == null) continue;
                    var (solution, solveDiagnostics) = KnapsackSolver.TrySolve(baseLayout, request.Criterion, ratio.Value, ratioPath: request.CriterionPath);
                    if (solution == null)
                    {
                        diagnostics.AddRange(solveDiagnostics.Select(d => DiagnosticInfo.From(d with { Message = $"{item} Ratios=\"{request.RatiosText}\": {d.Message}" }, request.Lines)));
                        continue;
                    }
                    string yaml;
                    try
                    {
                        yaml = PrunedSpecBuilder.Build(baseLayout, entry.FileName, solution, request.CriterionHash, ratio.Value, "build time",
                            names?[i], request.Criterion.Criterion);
                    }
                    catch (ArgumentException e)
                    {
                        diagnostics.Add(Info(request, SpecDiagnosticIds.InvalidName, $"{item} Names=\"{request.NamesText}\": {e.Message.Split('\n')[0].Replace(" (Parameter 'name')", "")}"));
                        continue;
                    }
                    var virtualPath = request.CriterionPath + "#" + (names?[i] ?? "ratio " + ratioText);
                    var parsed = SpecParser.Parse(virtualPath, yaml, ct);
                    var resolved = SpecResolver.Resolve(parsed, _ => entry.Parsed);
                    if (resolved.Spec == null || resolved.Diagnostics.Count > 0)
                    {
                        diagnostics.AddRange(resolved.Diagnostics.Select(d => Info(request, d.Id, $"{item} at ratio {ratioText}: {d.Message}")));
                        continue;
                    }
                    if (classes.TryGetValue(resolved.Spec.Name, out var other))
                    {
                        diagnostics.Add(Info(request, SpecDiagnosticIds.DuplicateName,
                            $"{item}: ratios {other} and {ratioText} both name class '{resolved.Spec.Name}' (names use the truncated percent); use distinct ratios or Names"));
                        continue;
                    }
                    classes.Add(resolved.Spec.Name, ratioText);
                    specs.Add(new ResolvedSpec(virtualPath, resolved.Spec, entry.Parsed.Spec, entry.Path, LineMap.Empty, EquatableArray<DiagnosticInfo>.Empty));
                }
                return new PruneOutcome(specs.ToEquatableArray(), diagnostics.ToEquatableArray());
            }
            catch (Exception e) when (!(e is OperationCanceledException))
            {
                diagnostics.Add(DiagnosticInfo.Internal(request.CriterionPath, TrackingNames.PruneSolve, e));
                return Done(null, diagnostics);
            }
        }

        /// <summary>Ratios split on ';' or ','; a value that is not a number in (0, 1) is LD0016 (its entry stays, as null, so names keep their order).</summary>
        private static List<(double? Ratio, string Text)> ParseRatios(PruneRequest request, string item, List<DiagnosticInfo> diagnostics)
        {
            var result = new List<(double?, string)>();
            foreach (var text in request.RatiosText.Split(';', ',').Select(t => t.Trim()).Where(t => t.Length > 0))
            {
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) || double.IsNaN(r) || double.IsInfinity(r))
                    diagnostics.Add(Info(request, SpecDiagnosticIds.InfeasibleRatio, $"{item} Ratios=\"{request.RatiosText}\": '{text}' is not a number; give fractions such as 0.3;0.5"));
                else if (!(r > 0 && r < 1))
                    diagnostics.Add(Info(request, SpecDiagnosticIds.InfeasibleRatio,
                        $"{item} Ratios=\"{request.RatiosText}\": pruning ratio {text} must be between 0 and 1, exclusive (the fraction of the U-Net's parameters to remove)"));
                else if (result.Any(x => x.Item1 == r))
                    diagnostics.Add(Info(request, SpecDiagnosticIds.InfeasibleRatio, $"{item} Ratios=\"{request.RatiosText}\": ratio {text} is given twice"));
                else { result.Add((r, text)); continue; }
                result.Add((null, text));
            }
            if (result.Count == 0 && diagnostics.Count == 0)
                diagnostics.Add(Info(request, SpecDiagnosticIds.InfeasibleRatio, $"{item} has no Ratios; give them as Ratios=\"0.3;0.5\""));
            return result;
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
