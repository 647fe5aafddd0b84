using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.IO;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Pruning;
using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using Spectre.Console;

namespace LaptopDiff.Cli.Commands.Additivity;

/// <summary>
/// <c>laptop-diff additivity</c>: real output loss of random unit subsets against the additive predictions of
/// the criterion file and of the feature-loss and magnitude criteria; writes additivity.json, .png and .md.
/// </summary>
public static class AdditivityCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec("The U-Net spec (*.unet.yaml)");
    private static readonly UNetModelOptions Model = new(SpecOption, weightsDescription: "Teacher weights (.safetensors)");
    private static readonly Option<FileInfo> CriterionOption = new("--criterion") { Description = "Criterion file from `sweep` (JSON)", Required = true };
    private static readonly Option<string?> CalibrationOption = new("--calibration") { Description = "Calibration set (.safetensors or shards), noised like the sweep" };
    private static readonly Option<int?> SyntheticOption = new("--synthetic") { Description = "Use N seeded synthetic samples instead of --calibration" };
    private static readonly Option<DirectoryInfo> OutputOption = CommonOptions.Output<DirectoryInfo>("Folder for additivity.json, additivity.png, additivity.md");
    private static readonly Option<int> SubsetsOption = new("--subsets") { Description = "Random subsets to evaluate", DefaultValueFactory = _ => 40 };
    private static readonly Option<long> SeedOption = CommonOptions.Seed("the subsets and of the noising");
    private static readonly Option<double> MinRatioOption = new("--min-ratio") { Description = "Smallest target fraction of parameters removed", DefaultValueFactory = _ => 0.02 };
    private static readonly Option<double> MaxRatioOption = new("--max-ratio") { Description = "Largest target fraction of parameters removed", DefaultValueFactory = _ => 0.6 };
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Samples per forward", DefaultValueFactory = _ => 16 };
    private static readonly JsonOption JsonOption = CommonOptions.Json("pearson and spearman per criterion");
    private static readonly ScheduleOptions ScheduleFlags = new();
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the model and every masked forward");

    public const string JsonFile = "additivity.json";
    public const string PlotFile = "additivity.png";
    public const string MarkdownFile = "additivity.md";

    private const string Details = """
        The real output loss of random unit subsets (2% to 60% of the parameters by default) against the
        summed single-unit criteria, also for weight magnitude and a stage-feature-loss criterion: Pearson
        and Spearman correlations, OUTPUT/additivity.png (the paper's Figure 5), additivity.json and
        additivity.md. Inputs are noised like the sweep's. Every input is checked before OUTPUT is
        touched.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("additivity", "Check that single-unit criteria add up: real loss of random unit subsets vs predicted sums", Details)
        {
            CriterionOption, CalibrationOption, SyntheticOption, OutputOption,
            SubsetsOption, SeedOption, MinRatioOption, MaxRatioOption, BatchOption, JsonOption, ThreadsOption, DeviceOption,
        };
        Model.AddTo(command);
        ScheduleFlags.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
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
            var unet = Model.Resolve(parse);
            var weights = unet.WeightsPath!;
            var layout = SpecFiles.LoadLayout(unet.SpecPath);
            var criterion = CriterionFiles.Read(parse.GetValue(CriterionOption)!.FullName, layout).File;
            WeightLoader.CheckAgainstKeys(layout.LiveKeys, SafetensorsFile.ReadHeader(weights)).ThrowIfMismatched();

            void Progress(string line) => context.Error.WriteLine(line);
            using var inputs = calibration != null
                ? AdditivityInputs.Load(calibration, layout, new NoisingSettings { Seed = options.Seed, Schedule = schedule }, batch)
                : AdditivityInputs.Synthetic(layout, synthetic!.Value, options.Seed, batch, schedule: schedule);
            using var model = new UNet2DCondition(layout);
            WeightLoader.Load(model, weights, strict: true);
            model.MoveTo(DeviceOption.Read(parse));
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

    /// <summary>The command line's own checks, before any file is read (the runtime checks the same values again).</summary>
    private static void Validate(string? calibration, int? synthetic, AdditivityOptions o, int batch)
    {
        if ((calibration == null) == (synthetic == null))
            throw new UsageException("give exactly one of --calibration CALIB and --synthetic N");
        if (synthetic is < 1) throw new OptionValueException($"--synthetic must be at least 1, got {synthetic}");
        if (o.Subsets < 1) throw new OptionValueException($"--subsets must be at least 1, got {o.Subsets}");
        if (batch < 1) throw new OptionValueException($"--batch must be at least 1, got {batch}");
        if (!(o.MinRatio > 0 && o.MinRatio <= o.MaxRatio && o.MaxRatio < 1))
            throw new OptionValueException($"need 0 < --min-ratio <= --max-ratio < 1, got {o.MinRatio} and {o.MaxRatio}");
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
