using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pruning;
using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Runtime.Pruning.Baselines;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using Spectre.Console;

namespace LaptopDiff.Cli.Commands.Compare;

/// <summary>
/// <c>laptop-diff compare</c>: LAPTOP against the handcrafted presets, random and magnitude at one ratio, each with
/// its achieved ratio and real one-shot output loss on a held-out calibration set (noised like the sweep).
/// </summary>
public static class CompareCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec("The full model's spec (*.unet.yaml)");
    private static readonly UNetModelOptions Model = new(SpecOption, weightsDescription: "Teacher weights (.safetensors)");
    private static readonly Option<string> CalibrationOption = new("--calibration") { Description = "Held-out calibration set (.safetensors or shards), not the one the criterion was swept on", Required = true };
    private static readonly Option<FileInfo> CriterionOption = new("--criterion") { Description = "The output-loss criterion file from `sweep` (for the laptop method)", Required = true };
    private static readonly Option<double> RatioOption = new("--ratio") { Description = "Fraction of the U-Net's parameters to remove, in (0,1) (presets have their own fixed ratio)", Required = true };
    private static readonly Option<string?> MethodsOption = new("--methods")
    {
        Description = $"Comma list of methods (default all: {string.Join(",", BaselineMethods.All)}); by default a method that does not fit the spec is " +
                      "reported as skipped, a named one is an error",
    };
    private static readonly Option<string[]> StudentOption = new("--student")
    {
        Description = "NAME=SPEC: also measure a pruned spec made elsewhere (e.g. prune --budget latency), based on this model; repeatable",
        AllowMultipleArgumentsPerToken = false,
    };
    private static readonly Option<long> SeedOption = CommonOptions.Seed("the noising (as the sweep's --seed) and of the random baseline");
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Samples per forward", DefaultValueFactory = _ => 16 };
    private static readonly ScheduleOptions ScheduleFlags = new();
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the teacher, the pruned models and every forward");
    private static readonly JsonOption JsonOption = CommonOptions.Json("methods.NAME with status, ratio, loss, loss_stderr, predicted_loss, removed_params, removed");

    private const string Details = """
        Each method's achieved ratio, removed parameters and real one-shot output loss (mean per-sample
        MSE to the teacher, with its standard error, before any retraining) on a held-out calibration set
        noised like the sweep: LAPTOP's knapsack, the presets (at their own ratio), seeded random (random
        order until ceil(R x P) is met) and magnitude (the exact knapsack on each unit's share of sum
        |w|). A method that does not fit the spec is listed as skipped with the reason, or exit 2 when
        named in --methods. Each --student NAME=SPEC adds a row for a pruned spec of this model, measured the
        same way.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("compare", "One-shot output loss of LAPTOP vs handcrafted, random and magnitude pruning at one ratio, on held-out data", Details)
        {
            CalibrationOption, CriterionOption, RatioOption, MethodsOption, StudentOption, SeedOption, BatchOption, ThreadsOption, DeviceOption, JsonOption,
        };
        Model.AddTo(command);
        ScheduleFlags.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            int batch = parse.GetValue(BatchOption);
            if (batch < 1) throw new OptionValueException($"--batch must be at least 1, got {batch}");
            var methodsArg = parse.GetValue(MethodsOption);
            var methods = methodsArg == null
                ? BaselineMethods.All
                : methodsArg.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            if (methods.Count == 0) throw new OptionValueException("--methods needs at least one method");
            var unknown = methods.FirstOrDefault(m => !BaselineMethods.All.Contains(m));
            if (unknown != null) throw new OptionValueException($"--methods: unknown method '{unknown}'; methods are {string.Join(", ", BaselineMethods.All)}");
            long seed = parse.GetValue(SeedOption);
            double ratio = parse.GetValue(RatioOption);

            // every input checked before the first forward
            var unet = Model.Resolve(parse);
            var specPath = unet.SpecPath;
            var layout = SpecFiles.LoadLayout(specPath);
            if (layout.Removed.Count > 0 || layout.Spec.Base != null)
                throw new InputException($"{specPath} is a pruned spec; compare prunes the full model's spec.");
            var criterion = CriterionFiles.Read(parse.GetValue(CriterionOption)!.FullName, layout).File;
            var students = (parse.GetValue(StudentOption) ?? []).Select(s => Student(s, layout)).ToList();
            var weights = unet.WeightsPath!;
            WeightLoader.CheckAgainstKeys(layout.LiveKeys, SafetensorsFile.ReadHeader(weights)).ThrowIfMismatched();
            var calibrationPath = parse.GetValue(CalibrationOption)!;
            using var heldOut = AdditivityInputs.Load(calibrationPath, layout, new NoisingSettings { Seed = seed, Schedule = ScheduleFlags.Read(parse) }, batch);
            using var teacher = new UNet2DCondition(layout);
            WeightLoader.Load(teacher, weights, strict: true);
            teacher.MoveTo(DeviceOption.Read(parse));
            teacher.eval();
            context.Error.WriteLine($"compare: {layout.Spec.Name} at ratio {ratio.ToString("R", CultureInfo.InvariantCulture)}, {heldOut.Source}");

            var rows = BaselineComparison.Run(new ComparisonRequest
            {
                Teacher = teacher,
                Criterion = criterion,
                Ratio = ratio,
                Methods = methods,
                MethodsExplicit = methodsArg != null,
                Seed = seed,
                Students = students,
            }, heldOut, line => context.Error.WriteLine(line));

            if (parse.GetValue(JsonOption)) context.Out.WriteLine(ToJson(layout, ratio, heldOut, calibrationPath, rows));
            else PrintTable(context, layout, ratio, heldOut, rows);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>NAME=SPEC: the units a pruned spec of <paramref name="teacher"/>'s structure removes.</summary>
    private static (string Name, IReadOnlyList<string> Removed) Student(string arg, UNetLayout teacher)
    {
        int eq = arg.IndexOf('=');
        if (eq < 1 || eq == arg.Length - 1) throw new OptionValueException($"--student '{arg}': expected NAME=SPEC");
        var (name, path) = (arg[..eq], arg[(eq + 1)..]);
        var student = SpecFiles.LoadLayout(path);
        var (baseSpec, basePath) = SpecFiles.LoadBase(path) ?? (student.Spec, path);
        if (SpecHash.Compute(baseSpec) != SpecHash.Compute(teacher.Spec))
            throw new InputException($"student spec '{path}' is based on '{basePath}', another structure than {teacher.Spec.Name}; prune it from the same model");
        return (name, student.Removed.ToList());
    }

    private static void PrintTable(CliContext context, UNetLayout layout, double ratio, AdditivityInputs heldOut, IReadOnlyList<ComparisonRow> rows)
    {
        var table = new Table().Border(TableBorder.Simple)
            .Title($"{Markup.Escape(layout.Spec.Name)} at ratio {ratio.ToString("R", CultureInfo.InvariantCulture)}: one-shot output loss on {heldOut.Count} held-out samples");
        table.AddColumn("method");
        foreach (var c in new[] { "ratio", "removed units", "removed params", "remaining params", "loss", "std err", "predicted" })
            table.AddColumn(new TableColumn(c).RightAligned());
        table.AddColumn("note");
        foreach (var row in rows)
        {
            if (row.Selection is not PrunedSelection s)
            {
                table.AddRow(Markup.Escape(row.Method), "-", "-", "-", "-", "-", "-", "-", Markup.Escape($"skipped: {row.SkipReason}"));
                continue;
            }
            table.AddRow(Markup.Escape(row.Method), s.AchievedRatio.ToString("0.0000", CultureInfo.InvariantCulture),
                s.Removed.Count.ToString(CultureInfo.InvariantCulture) + (s.MidReduction == null ? "" : " + mid attn"),
                s.RemovedParams.ToString("N0", CultureInfo.InvariantCulture), s.RemainingParams.ToString("N0", CultureInfo.InvariantCulture),
                G(row.Loss!.Mean), G(row.Loss.StdErr), s.PredictedLoss is double p ? G(p) : "-",
                PruningPresets.Names.Contains(row.Method) ? "handcrafted: its own fixed ratio" : "");
        }
        var console = Consoles.For(context.Out);
        console.Write(table);
        console.WriteLine("loss: mean over samples of the per-sample MSE between the pruned model's eps and the teacher's, before any retraining; " +
                          "predicted: the method's criterion summed over removed units (magnitude: share of |w|).");
    }

    private static string ToJson(UNetLayout layout, double ratio, AdditivityInputs heldOut, string calibrationPath, IReadOnlyList<ComparisonRow> rows)
    {
        var methods = new Dictionary<string, MethodJson>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var s = row.Selection;
            methods[row.Method] = s == null
                ? new MethodJson("skipped", row.SkipReason, null, null, null, null, null, null, null, null, null)
                : new MethodJson("ok", null, s.AchievedRatio, row.Loss!.Mean, row.Loss.StdErr, s.PredictedLoss, s.RemovedParams, s.RemainingParams,
                    s.Removed.ToArray(), s.MidReduction?.ToString().ToLowerInvariant(), row.Loss.Samples);
        }
        return JsonSerializer.Serialize(new CompareJson(layout.Spec.Name, ratio, layout.TotalParamCount, Path.GetFullPath(calibrationPath), heldOut.Count, methods),
            JsonOptions.Indented);
    }

    private static string G(double v) => v.ToString("G5", CultureInfo.InvariantCulture);

    private sealed record CompareJson(
        [property: JsonPropertyName("spec")] string Spec,
        [property: JsonPropertyName("ratio")] double Ratio,
        [property: JsonPropertyName("total_params")] long TotalParams,
        [property: JsonPropertyName("calibration")] string Calibration,
        [property: JsonPropertyName("samples")] int Samples,
        [property: JsonPropertyName("methods")] IReadOnlyDictionary<string, MethodJson> Methods);

    private sealed record MethodJson(
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason,
        [property: JsonPropertyName("ratio")] double? Ratio,
        [property: JsonPropertyName("loss")] double? Loss,
        [property: JsonPropertyName("loss_stderr")] double? LossStdErr,
        [property: JsonPropertyName("predicted_loss")] double? PredictedLoss,
        [property: JsonPropertyName("removed_params")] long? RemovedParams,
        [property: JsonPropertyName("remaining_params")] long? RemainingParams,
        [property: JsonPropertyName("removed")] string[]? Removed,
        [property: JsonPropertyName("mid")] string? Mid,
        [property: JsonPropertyName("samples")] int? Samples);
}
