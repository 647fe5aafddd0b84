using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Benchmarks;
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
        Description = "Fraction of the U-Net's parameters (or of the --budget) to remove, in (0,1). Repeat it or give a comma list (0.3,0.5) for the Pareto frontier: " +
                      "one pruned spec per ratio, and OUTPUT must then contain {ratio} (replaced by the percent, e.g. 30) or be a folder",
        AllowMultipleArgumentsPerToken = false,
    };
    private static readonly Option<string> OutputOption = CommonOptions.Output<string>(
        "The pruned spec to write (*.unet.yaml). {ratio} becomes the percent. An existing folder (or a path ending in /) gets " +
        "<spec>.pruned<percent>.unet.yaml. Put it next to SPEC; elsewhere 'base:' is written as a path relative to the output's folder", required: false);
    private static readonly UNetModelOptions Model = new(SpecOption, weightsDescription: "The teacher's weights (.safetensors, diffusers keys); with --student-weights");
    private static readonly Option<string> BudgetOption = new("--budget")
    {
        Description = "What --ratio is a fraction of: params (the paper's; no costs file), flops or latency of one U-Net step (from --costs)",
        DefaultValueFactory = _ => "params",
    };
    private static readonly Option<FileInfo?> CostsOption = new("--costs")
    {
        Description = "The costs file from `laptop-diff profile` on SPEC (needed by --budget flops|latency), measured at --batch and --height x --width",
    };
    private static readonly Option<int> BatchOption = new("--batch") { Description = "The batch the budget is for; the costs file must have been profiled at it", DefaultValueFactory = _ => 1 };
    private static readonly Option<int?> HeightOption = new("--height") { Description = "Latent height the budget is for (default: the spec's sample_size); the costs file must match" };
    private static readonly Option<int?> WidthOption = new("--width") { Description = "Latent width the budget is for (default: the spec's sample_size); the costs file must match" };
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
        reach (LD0016) is exit 2; a ratio that is not a fraction in (0,1) is exit 2.

        Budgets (--budget flops|latency --costs COSTS.json): the same exact knapsack with each unit's FLOPs
        or measured latency (from `laptop-diff profile`) in place of its parameters: removed cost >= R x
        the whole step's (for latency: its units plus the fixed rest, as profiled). Latencies are
        budgeted in whole nanoseconds, exactly. The costs file must come
        from SPEC at the budget's batch and size (--batch, default 1; --height/--width, default the spec's
        sample_size): another spec, batch or resolution (LD0018), a malformed file (LD0017), or a flops or
        latency budget without --costs (LD0018) is exit 2 and writes nothing. Default outputs are
        <spec>.latency<percent>.unet.yaml (or .flops<percent>); classes <BaseName>Latency<percent>. A
        latency budget also prints the student's predicted step time (predicted_step_ms): the measured
        step x (1 - the removed units' latency / the parts' sum); `profile --spec` on the student checks it.

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
            CriterionOption, RatioOption, BudgetOption, CostsOption, BatchOption, HeightOption, WidthOption, PresetOption, RandomOption, OutputOption, StudentWeightsOption, NameOption, JsonOption,
        };
        Model.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var unet = Model.Resolve(parse, weightsRequired: false);
            var student = parse.GetValue(StudentWeightsOption);
            var request = new PruneRequest
            {
                SpecPath = unet.SpecPath,
                Method = Method(parse),
                Output = parse.GetValue(OutputOption),
                TeacherWeights = unet.Folder is null || student is not null ? unet.WeightsPath : null,   // a folder's weights are read only to write a student
                StudentWeights = student,
                Name = parse.GetValue(NameOption),
            };
            var outcome = PruneRunner.Run(request);
            if (request.Method is PruneMethod.Knapsack knapsack) ReportFrontier(context, outcome, knapsack, outcome.Budget!, parse.GetValue(JsonOption));
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
        bool budgetGiven = new Option[] { BudgetOption, CostsOption, BatchOption, HeightOption, WidthOption }.Any(o => parse.GetResult(o) is { Implicit: false });
        if (budgetGiven && (parse.GetValue(PresetOption) != null || parse.GetValue(RandomOption) != null))
            throw new UsageException("--budget, --costs, --batch, --height and --width set the knapsack's budget; --preset and --random take none of them.");
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
        return new PruneMethod.Knapsack(criterion, ratios, Budget(parse));
    }

    /// <summary>The knapsack's budget; an unknown kind or a size below 1 is a bad option value.</summary>
    private static KnapsackBudget Budget(ParseResult parse)
    {
        var name = parse.GetValue(BudgetOption);
        var kind = PruneBudget.Parse(name) ?? throw new OptionValueException($"--budget {name}: give one of {string.Join(", ", PruneBudget.Names)}");
        int batch = parse.GetValue(BatchOption);
        int? height = parse.GetValue(HeightOption), width = parse.GetValue(WidthOption);
        if (batch < 1 || height < 1 || width < 1) throw new OptionValueException("--batch, --height and --width must be at least 1");
        return new KnapsackBudget(kind, parse.GetValue(CostsOption)?.FullName, batch, height, width);
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

    private static void ReportFrontier(CliContext context, PruneOutcome outcome, PruneMethod.Knapsack method, PruneBudget budget, bool json)
    {
        var baseLayout = outcome.Base;
        long total = baseLayout.TotalParamCount;
        bool multi = outcome.Models.Count > 1;
        bool costBudget = budget.Kind != BudgetKind.Params;
        if (json)
        {
            var objects = outcome.Models.Select(m =>
            {
                var s = m.Solution!;
                return new PruneJson(s.Ratio, s.AchievedRatio, s.Removed.ToArray(), s.RemovedParams, s.RequiredParams, s.PredictedLoss, total,
                    total - s.RemovedParams, s.NodesExplored, Math.Round(m.SolveMs, 3), m.Output.Layout.Spec.Name, m.Output.SpecPath, m.Output.StudentPath)
                {
                    Budget = PruneBudget.NameOf(budget.Kind),
                    RemovedCost = costBudget ? Cost(budget, s.RemovedCost) : null,
                    RequiredCost = costBudget ? Cost(budget, s.RequiredCost) : null,
                    TotalCost = costBudget ? Cost(budget, s.TotalCost) : null,
                    PredictedStepMs = budget.Kind == BudgetKind.Latency ? Math.Round(CostProfiler.PredictedStepMs(budget.Costs!, s.Removed), 4) : null,
                };
            }).ToList();
            context.Out.WriteLine(multi
                ? JsonSerializer.Serialize(new FrontierJson(baseLayout.Spec.Name, total, objects), JsonOptions.Indented)
                : JsonSerializer.Serialize(objects[0], JsonOptions.Indented));
            return;
        }
        int prunable = baseLayout.PrunableUnits.Count();
        string of = costBudget ? $"{budget.Noun} ({budget.Costs!.Shape} on {budget.Costs.Device})" : "parameters";
        if (multi)
        {
            context.Out.WriteLine($"Pareto frontier of {baseLayout.Spec.Name} ({total:N0} parameters, {prunable} prunable units), exact knapsack over " +
                                  $"{Path.GetFileName(method.CriterionPath)}, ratios of its {of}:");
            var removedHeader = costBudget ? "removed " + PruneBudget.NameOf(budget.Kind) : "";
            context.Out.WriteLine($"{"ratio",7} {"achieved",9} {removedHeader,18} {"removed params",15} {"units",6} {"predicted loss",16} {"nodes",8}  spec");
            foreach (var m in outcome.Models)
            {
                var s = m.Solution!;
                var removedCost = costBudget ? budget.Format(s.RemovedCost) : "";
                context.Out.WriteLine($"{R(s.Ratio),7} {s.AchievedRatio.ToString("0.0000", CultureInfo.InvariantCulture),9} {removedCost,18} {s.RemovedParams,15:N0} " +
                                      $"{s.Removed.Count,6} {CriterionWriter.Number(s.PredictedLoss),16} {s.NodesExplored,8}  {m.Output.SpecPath}");
            }
        }
        foreach (var m in outcome.Models)
        {
            var s = m.Solution!;
            var cost = costBudget
                ? $"{budget.Format(s.RemovedCost)} of {budget.Format(s.TotalCost)} {of} (achieved {s.AchievedRatio.ToString("0.0000", CultureInfo.InvariantCulture)}), {s.RemovedParams:N0} of {total:N0} parameters"
                : $"{s.RemovedParams:N0} of {total:N0} parameters (achieved {s.AchievedRatio.ToString("0.0000", CultureInfo.InvariantCulture)})";
            if (budget.Kind == BudgetKind.Latency)
                cost += $"; predicted step {CostProfiler.PredictedStepMs(budget.Costs!, s.Removed):0.###} ms of the measured {budget.Costs!.Step.LatencyMs:0.###} ms";
            if (!multi)
                context.Out.WriteLine($"{baseLayout.Spec.Name} at ratio {R(s.Ratio)}: removed {s.Removed.Count} of {prunable} prunable units, {cost}, " +
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
        [property: JsonPropertyName("student_weights")] string? StudentWeights)
    {
        [JsonPropertyName("budget")] public string Budget { get; init; } = "params";
        /// <summary>For a flops or latency budget: removed, required (ceil(ratio x total)) and total cost, FLOPs or milliseconds.</summary>
        [JsonPropertyName("removed_cost"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? RemovedCost { get; init; }
        [JsonPropertyName("required_cost"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? RequiredCost { get; init; }
        [JsonPropertyName("total_cost"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? TotalCost { get; init; }
        /// <summary>For a latency budget: the student's step time the costs file predicts (<see cref="CostProfiler.PredictedStepMs"/>).</summary>
        [JsonPropertyName("predicted_step_ms"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? PredictedStepMs { get; init; }
    }

    /// <summary>A cost as --json writes it: FLOPs as they are, latency in milliseconds.</summary>
    private static double Cost(PruneBudget budget, long cost) => budget.Kind == BudgetKind.Latency ? cost * PruneBudget.LatencyResolutionMs : cost;

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
