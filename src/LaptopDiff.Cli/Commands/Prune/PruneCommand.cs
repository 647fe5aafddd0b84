using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Pruning;
using LaptopDiff.Spec;

namespace LaptopDiff.Cli.Commands.Prune;

/// <summary>
/// <c>laptop-diff prune --spec SPEC --criterion C.json --ratio R --output PRUNED.unet.yaml [--weights W --student-weights S]</c>:
/// the exact knapsack over a criterion file, written as a pruned spec (an overlay on SPEC) and, with weights,
/// the student's initial weights; <c>--preset NAME</c> and <c>--random SEED --ratio R</c> write the baselines the same way.
/// A thin verb: options to a <see cref="PruneRequest"/>, <see cref="PruneRunner"/> plans, checks and writes, this reports.
/// </summary>
public static class PruneCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec("The full model's spec (*.unet.yaml, or a diffusers config.json such as a pipeline folder's unet/config.json: the pruned spec then names it as base:, read at run time, not by the build) the criterion was measured on");
    private static readonly Option<FileInfo?> CriterionOption = new("--criterion") { Description = "The criterion file (JSON) from `laptop-diff sweep` (with --ratio; or give --preset)" };
    private static readonly Option<long?> RandomOption = new("--random")
    {
        Description = "The random baseline: remove prunable units in an order seeded by this value until --ratio is reached (no --criterion)",
    };
    private static readonly Option<string?> PresetOption = new("--preset")
    {
        Description = $"Apply a handcrafted preset instead of the knapsack: {string.Join(", ", PruningPresets.Names)} (no --criterion/--ratio; --output defaults to <spec>.<preset>.unet.yaml beside SPEC)",
    };
    private static readonly Option<string[]> RatioOption = new("--ratio")
    {
        Description = "Fraction of the U-Net's parameters to remove, in (0,1). Repeat it or give a comma list (0.3,0.5) for the Pareto frontier: " +
                      "one pruned spec per ratio, and OUTPUT must then contain {ratio} (replaced by the percent, e.g. 30) or be a folder",
        AllowMultipleArgumentsPerToken = false,
    };
    private static readonly Option<string> OutputOption = CommonOptions.Output<string>(
        "The pruned spec to write (*.unet.yaml). {ratio} becomes the percent. An existing folder (or a path ending in /) gets " +
        "<spec>.pruned<percent>.unet.yaml. Put it next to SPEC; elsewhere 'base:' is written as a path relative to the output's folder", required: false);
    private static readonly Option<FileInfo?> WeightsOption = new("--weights") { Description = "The teacher's weights (.safetensors, diffusers keys); with --student-weights" };
    private static readonly Option<string?> StudentWeightsOption = new("--student-weights")
    {
        Description = "Where to write the student's initial weights: the teacher's tensors minus the removed units' (same key names). " +
                      "With several ratios it must contain {ratio} or be a folder (<spec>.pruned<percent>.safetensors)",
    };
    private static readonly Option<string?> NameOption = new("--name") { Description = "Class name of the pruned model (default <BaseName>Pruned<percent>); with several ratios it must contain {ratio}" };
    private static readonly JsonOption JsonOption = CommonOptions.Json("one ratio: its figures; several: total_params and a 'solutions' list");

    private const string Details = """
        Three ways to choose the units, each written as a pruned spec (base: SPEC relative to the output's
        folder, removed: and provenance) and, with --weights and --student-weights, the student's initial
        weights: the teacher's tensors minus the removed units', copied from the file. Everything is
        solved and checked before the first file is written.

        The knapsack (--criterion C --ratio R): removes the units of least summed loss with removed params
        >= R x total, exactly. Several ratios (--ratio 0.3 --ratio 0.5, or 0.3,0.5) print the Pareto
        frontier and write one spec each. A bad criterion (LD0014, LD0015) or a ratio out of the units'
        reach (LD0016) is exit 2; a ratio that is not a fraction in (0,1) is exit 1.

        A preset (--preset NAME), a handcrafted baseline with provenance method "preset NAME": bk-sdm-base
        (the second ResNet+attention pair of each down stage, the middle pair of each up stage; SD-1.5:
        579,384,964 params), bk-sdm-small (also the mid block; 482,346,884), ssd-1b (SSD-1B's transformer
        depths and ResNet-only mid; SDXL: 1,331,334,404, SSD-1B's exact keys). Rules over the structure,
        so they fit any spec of that shape; one that does not fit is exit 2 saying why. --json: preset,
        ratio, removed, mid, removed_params, total_params, remaining_params. More in docs/pruning.md.

        The random baseline (--random SEED --ratio R): prunable units in an order seeded by SEED until the
        removed parameters reach ceil(R x P), the selection compare scores as random; --json as for
        --preset.
        """;

    public static Command Create(CliContext context)
    {
        PresetOption.AcceptOnlyFromAmong(PruningPresets.Names.ToArray());
        var command = new VerbCommand("prune", "Choose the units to remove by the exact knapsack over a criterion file (or a handcrafted preset) and write the pruned spec (and student weights)", Details)
        {
            SpecOption, CriterionOption, RatioOption, PresetOption, RandomOption, OutputOption, WeightsOption, StudentWeightsOption, NameOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var request = new PruneRequest
            {
                SpecPath = parse.GetValue(SpecOption)!.FullName,
                Method = Method(parse),
                Output = parse.GetValue(OutputOption),
                TeacherWeights = parse.GetValue(WeightsOption)?.FullName,
                StudentWeights = parse.GetValue(StudentWeightsOption),
                Name = parse.GetValue(NameOption),
            };
            var outcome = PruneRunner.Run(request);
            if (request.Method is PruneMethod.Knapsack knapsack) ReportFrontier(context, outcome, knapsack, parse.GetValue(JsonOption));
            else ReportSelection(context, outcome, request.Method, parse.GetValue(JsonOption));
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The method the options name; conflicting or missing options are usage errors.</summary>
    private static PruneMethod Method(ParseResult parse)
    {
        var criterion = parse.GetValue(CriterionOption)?.FullName;
        var ratios = parse.GetValue(RatioOption) is { Length: > 0 } given ? ParseRatios(given) : [];
        if (parse.GetValue(PresetOption) is string preset)
        {
            if (criterion != null || ratios.Count > 0)
                throw new UsageException("--preset chooses the units itself; give either --preset or --criterion with --ratio, not both.");
            return new PruneMethod.Preset(preset);
        }
        if (parse.GetValue(RandomOption) is long seed)
        {
            if (criterion != null || ratios.Count != 1)
                throw new UsageException("--random SEED takes one --ratio and no --criterion: the seeded order chooses the units.");
            return new PruneMethod.Random(seed, ratios[0]);
        }
        if (criterion == null || ratios.Count == 0 || parse.GetValue(OutputOption) == null)
            throw new UsageException("prune needs --criterion, --ratio and --output (or --preset NAME for a handcrafted baseline, or --random SEED --ratio R).");
        return new PruneMethod.Knapsack(criterion, ratios);
    }

    /// <summary>Every --ratio value, comma lists split, in the order given (<see cref="PruneRatios"/>): one that is not a fraction in (0, 1), or is given twice, is a usage error.</summary>
    internal static IReadOnlyList<double> ParseRatios(IEnumerable<string> args)
    {
        var entries = PruneRatios.Parse(args, ',');
        if (entries.FirstOrDefault(e => e.Problem != null) is RatioEntry bad)
            throw new OptionValueException($"--ratio: {bad.Problem}; give fractions such as 0.5 (or a list 0.3,0.5)");
        if (entries.Count == 0) throw new OptionValueException("--ratio needs at least one value");
        return entries.Select(e => e.Value!.Value).ToList();
    }

    private static void ReportFrontier(CliContext context, PruneOutcome outcome, PruneMethod.Knapsack method, bool json)
    {
        var baseLayout = outcome.Base;
        long total = baseLayout.TotalParamCount;
        bool multi = outcome.Models.Count > 1;
        if (json)
        {
            var objects = outcome.Models.Select(m =>
            {
                var s = m.Solution!;
                return new PruneJson(s.Ratio, s.AchievedRatio, s.Removed.ToArray(), s.RemovedParams, s.RequiredParams, s.PredictedLoss, total,
                    total - s.RemovedParams, s.NodesExplored, Math.Round(m.SolveMs, 3), m.Output.Layout.Spec.Name, m.Output.SpecPath, m.Output.StudentPath);
            }).ToList();
            context.Out.WriteLine(multi
                ? JsonSerializer.Serialize(new FrontierJson(baseLayout.Spec.Name, total, objects), JsonOptions.Indented)
                : JsonSerializer.Serialize(objects[0], JsonOptions.Indented));
            return;
        }
        int prunable = baseLayout.PrunableUnits.Count();
        if (multi)
        {
            context.Out.WriteLine($"Pareto frontier of {baseLayout.Spec.Name} ({total:N0} parameters, {prunable} prunable units), exact knapsack over {Path.GetFileName(method.CriterionPath)}:");
            context.Out.WriteLine($"{"ratio",7} {"achieved",9} {"removed params",15} {"units",6} {"predicted loss",16} {"nodes",8}  spec");
            foreach (var m in outcome.Models)
            {
                var s = m.Solution!;
                context.Out.WriteLine($"{R(s.Ratio),7} {s.AchievedRatio.ToString("0.0000", CultureInfo.InvariantCulture),9} {s.RemovedParams,15:N0} " +
                                      $"{s.Removed.Count,6} {CriterionWriter.Number(s.PredictedLoss),16} {s.NodesExplored,8}  {m.Output.SpecPath}");
            }
        }
        foreach (var m in outcome.Models)
        {
            var s = m.Solution!;
            if (!multi)
                context.Out.WriteLine($"{baseLayout.Spec.Name} at ratio {R(s.Ratio)}: removed {s.Removed.Count} of {prunable} prunable units, " +
                                      $"{s.RemovedParams:N0} of {total:N0} parameters (achieved {s.AchievedRatio.ToString("0.0000", CultureInfo.InvariantCulture)}), " +
                                      $"predicted loss {CriterionWriter.Number(s.PredictedLoss)}; exact knapsack: {s.NodesExplored} nodes, {m.SolveMs:0.###} ms");
            WriteFiles(context, outcome, m);
        }
    }

    private static void ReportSelection(CliContext context, PruneOutcome outcome, PruneMethod method, bool json)
    {
        var m = outcome.Models.Single();
        var selection = m.Selection!;
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new PresetJson(selection.Preset, selection.AchievedRatio, selection.Removed.ToArray(),
                selection.MidReduction?.ToString().ToLowerInvariant(), selection.RemovedParams, selection.BaseParams, selection.RemainingParams,
                m.Output.Layout.Spec.Name, m.Output.SpecPath, m.Output.StudentPath), JsonOptions.Indented));
            return;
        }
        var how = method is PruneMethod.Random r ? $"a seeded random selection (seed {r.Seed}) at ratio {R(r.Ratio)}" : "preset " + selection.Preset;
        var mid = selection.MidReduction == null ? "" : $", mid block cut down to {(selection.MidReduction == MidKind.Resnet ? "its first ResNet" : "nothing")}";
        context.Out.WriteLine($"{outcome.Base.Spec.Name} by {how}: removed {selection.Removed.Count} of {outcome.Base.PrunableUnits.Count()} prunable units{mid}; " +
                              $"{selection.RemovedParams:N0} of {selection.BaseParams:N0} parameters (ratio {selection.AchievedRatio.ToString("0.0000", CultureInfo.InvariantCulture)})");
        WriteFiles(context, outcome, m);
    }

    private static void WriteFiles(CliContext context, PruneOutcome outcome, PrunedModel m)
    {
        context.Out.WriteLine($"wrote {m.Output.SpecPath}: {m.Output.Layout.Spec.Name}, {m.Output.Layout.TotalParamCount:N0} parameters");
        if (m.Output.StudentPath != null) context.Out.WriteLine($"wrote {m.Output.StudentPath}: {m.KeptTensors} of {outcome.TeacherTensors} teacher tensors");
    }

    private sealed record PruneJson(
        [property: JsonPropertyName("ratio")] double Ratio,
        [property: JsonPropertyName("achieved_ratio")] double AchievedRatio,
        [property: JsonPropertyName("removed")] string[] Removed,
        [property: JsonPropertyName("removed_params")] long RemovedParams,
        [property: JsonPropertyName("required_params")] long RequiredParams,
        [property: JsonPropertyName("predicted_loss")] double PredictedLoss,
        [property: JsonPropertyName("total_params")] long TotalParams,
        [property: JsonPropertyName("remaining_params")] long RemainingParams,
        [property: JsonPropertyName("nodes")] long Nodes,
        [property: JsonPropertyName("solve_ms")] double SolveMs,
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("output")] string Output,
        [property: JsonPropertyName("student_weights")] string? StudentWeights);

    private sealed record FrontierJson(
        [property: JsonPropertyName("spec")] string Spec,
        [property: JsonPropertyName("total_params")] long TotalParams,
        [property: JsonPropertyName("solutions")] IReadOnlyList<PruneJson> Solutions);

    private sealed record PresetJson(
        [property: JsonPropertyName("preset")] string Preset,
        [property: JsonPropertyName("ratio")] double Ratio,
        [property: JsonPropertyName("removed")] string[] Removed,
        [property: JsonPropertyName("mid")] string? Mid,
        [property: JsonPropertyName("removed_params")] long RemovedParams,
        [property: JsonPropertyName("total_params")] long TotalParams,
        [property: JsonPropertyName("remaining_params")] long RemainingParams,
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("output")] string Output,
        [property: JsonPropertyName("student_weights")] string? StudentWeights);

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
