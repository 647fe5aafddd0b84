using System.CommandLine;
using LaptopDiff.Cli.IO;
using LaptopDiff.Runtime;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using Spectre.Console;
using TorchSharp;

namespace LaptopDiff.Cli.Commands.Additivity;

/// <summary>
/// <c>laptop-diff additivity</c>: real output loss of random unit subsets against the additive predictions of
/// the criterion file and of the feature-loss and magnitude criteria; writes additivity.json, .png and .md.
/// </summary>
public static class AdditivityCommand
{
    private static readonly Option<FileInfo> SpecOption = new("--spec") { Description = "The U-Net spec (*.unet.yaml)", Required = true };
    private static readonly Option<FileInfo> WeightsOption = new("--weights") { Description = "Teacher weights (.safetensors)", Required = true };
    private static readonly Option<FileInfo> CriterionOption = new("--criterion") { Description = "Criterion file from `sweep` (JSON)", Required = true };
    private static readonly Option<string?> CalibrationOption = new("--calibration") { Description = "Calibration set (.safetensors or shards), noised like the sweep" };
    private static readonly Option<int?> SyntheticOption = new("--synthetic") { Description = "Use N seeded synthetic samples instead of --calibration" };
    private static readonly Option<DirectoryInfo> OutputOption = new("--output") { Description = "Folder for additivity.json, additivity.png, additivity.md", Required = true };
    private static readonly Option<int> SubsetsOption = new("--subsets") { Description = "Random subsets to evaluate", DefaultValueFactory = _ => 40 };
    private static readonly Option<long> SeedOption = new("--seed") { Description = "Seed of the subsets and of the noising", DefaultValueFactory = _ => 0 };
    private static readonly Option<double> MinRatioOption = new("--min-ratio") { Description = "Smallest target fraction of parameters removed", DefaultValueFactory = _ => 0.02 };
    private static readonly Option<double> MaxRatioOption = new("--max-ratio") { Description = "Largest target fraction of parameters removed", DefaultValueFactory = _ => 0.6 };
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Samples per forward", DefaultValueFactory = _ => 16 };
    private static readonly Option<bool> JsonOption = new("--json") { Description = "Print one JSON object (pearson, spearman per criterion) instead of the table" };
    private static readonly ScheduleOptions ScheduleFlags = new();
    private static readonly Option<int?> ThreadsOption = new("--threads") { Description = "Intra-op threads (default: libtorch's choice)" };

    public const string JsonFile = "additivity.json";
    public const string PlotFile = "additivity.png";
    public const string MarkdownFile = "additivity.md";

    public static Command Create(CliContext context)
    {
        var command = new Command("additivity", "Check that single-unit criteria add up: real loss of random unit subsets vs predicted sums")
        {
            SpecOption, WeightsOption, CriterionOption, CalibrationOption, SyntheticOption, OutputOption,
            SubsetsOption, SeedOption, MinRatioOption, MaxRatioOption, BatchOption, JsonOption, ThreadsOption,
        };
        ScheduleFlags.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, () =>
        {
            if (parse.GetValue(ThreadsOption) is int threads) torch.set_num_threads(threads);
            var calibration = parse.GetValue(CalibrationOption);
            var synthetic = parse.GetValue(SyntheticOption);
            var options = new AdditivityOptions
            {
                Subsets = parse.GetValue(SubsetsOption),
                Seed = parse.GetValue(SeedOption),
                MinRatio = parse.GetValue(MinRatioOption),
                MaxRatio = parse.GetValue(MaxRatioOption),
            };
            int batch = parse.GetValue(BatchOption);
            var schedule = ScheduleFlags.Read(parse);
            Validate(calibration, synthetic, options, batch);

            // Every input is checked before the output folder is touched: a bad input leaves nothing behind.
            var weights = parse.GetValue(WeightsOption)!.FullName;
            var layout = SpecFiles.LoadLayout(parse.GetValue(SpecOption)!.FullName);
            var criterion = CriterionInputs.ReadCriterion(parse.GetValue(CriterionOption)!.FullName, layout);
            WeightLoader.CheckAgainstKeys(layout.LiveKeys, SafetensorsFile.ReadHeader(weights)).ThrowIfMismatched();

            void Progress(string line) => context.Error.WriteLine(line);
            using var inputs = calibration != null
                ? CriterionInputs.LoadCalibration(calibration, layout, new NoisingSettings { Seed = options.Seed, Schedule = schedule }, batch)
                : AdditivityInputs.Synthetic(layout, synthetic!.Value, options.Seed, batch, schedule: schedule);
            using var model = new UNet2DCondition(layout);
            WeightLoader.Load(model, weights, strict: true);
            model.eval();
            Progress($"additivity: {layout.Spec.Name}, {layout.PrunableUnits.Count()} prunable units, {inputs.Source}");

            var report = AdditivityCheck.Run(model, inputs, criterion, options, Progress) with { WeightsPath = weights };
            var output = parse.GetValue(OutputOption)!.FullName;
            Directory.CreateDirectory(output);
            TextOutputs.Write(Path.Combine(output, JsonFile), AdditivityJson.Write(AdditivityJson.ToJson(report)));
            AtomicFile.Write(Path.Combine(output, PlotFile), s => s.Write(AdditivityPlot.RenderPng(report)));
            TextOutputs.Write(Path.Combine(output, MarkdownFile), AdditivityMarkdown.Write(report, PlotFile));

            if (parse.GetValue(JsonOption)) context.Out.Write(AdditivityJson.Write(AdditivityJson.Correlations(report)));
            else PrintTable(context, report, output);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void Validate(string? calibration, int? synthetic, AdditivityOptions o, int batch)
    {
        if ((calibration == null) == (synthetic == null))
            throw new InputException("give exactly one of --calibration CALIB and --synthetic N");
        if (synthetic is < 1) throw new InputException($"--synthetic must be at least 1, got {synthetic}");
        if (o.Subsets < 1) throw new InputException($"--subsets must be at least 1, got {o.Subsets}");
        if (batch < 1) throw new InputException($"--batch must be at least 1, got {batch}");
        if (!(o.MinRatio > 0 && o.MinRatio <= o.MaxRatio && o.MaxRatio < 1))
            throw new InputException($"need 0 < --min-ratio <= --max-ratio < 1, got {o.MinRatio} and {o.MaxRatio}");
    }

    private static void PrintTable(CliContext context, AdditivityReport report, string output)
    {
        var table = new Table().AddColumns("criterion", "Pearson r", "Spearman rho", "s_i");
        table.Columns[1].RightAligned();
        table.Columns[2].RightAligned();
        foreach (var c in report.Correlations)
            table.AddRow(Markup.Escape(c.Criterion), AdditivityMarkdown.Format(c.Pearson), AdditivityMarkdown.Format(c.Spearman), Markup.Escape(c.Description));
        var console = Consoles.For(context.Out);
        console.Write(table);
        console.WriteLine($"{report.Subsets.Count} subsets, {report.Samples} samples, {report.Elapsed.TotalSeconds:F1} s; wrote {output}/{{{JsonFile},{PlotFile},{MarkdownFile}}}");
    }
}
