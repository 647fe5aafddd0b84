using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LaptopDiff.Cli.Commands.Generate;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Pipelines;

namespace LaptopDiff.Cli.Commands.Eval;

/// <summary>
/// <c>eval --model DIR [--unet-spec S --unet-weights W] --prompts FILE --scorer CLIPDIR [--metric clip|pick] [--grid PNG] [--json]</c>:
/// the pipeline (or a student in place of its U-Net) on prompts, scored by a CLIP model, against the folder's own U-Net.
/// The options join the digits eval's; <see cref="Run"/> takes over when --model is given. One instance per command.
/// </summary>
internal sealed class PipelineEvalOptions
{
    public readonly Option<DirectoryInfo> Model = CommonOptions.Model(CommonOptions.PipelineFolderDescription + ": evaluate this pipeline (the digits options then do not apply)", required: false);
    public readonly Option<FileInfo?> UNetSpec = new("--unet-spec") { Description = "With --model: a student U-Net spec (base: the folder's unet/config.json) evaluated in place of the folder's U-Net, which becomes the teacher" };
    public readonly Option<FileInfo?> UNetWeights = new("--unet-weights") { Description = "With --unet-spec: the student's weights" };
    public readonly PromptInputs Prompts = new();
    public readonly Option<DirectoryInfo?> Scorer = new("--scorer") { Description = "With --model: a transformers CLIPModel folder that scores each image against its prompt" };
    public readonly Option<string> Metric = new("--metric") { Description = "With --model: clip (100*max(cos,0)) or pick (exp(logit_scale)*cos)", DefaultValueFactory = _ => "clip" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, UNetSpec, UNetWeights, Scorer, Metric }) command.Options.Add(option);
        Prompts.AddTo(command);
    }

    public bool Given(ParseResult parse) => parse.GetValue(Model) is not null;

    /// <param name="device">Where the pipelines and the scorer run (the command's <c>--device</c>).</param>
    public int Run(CliContext context, ParseResult parse, int steps, double? guidance, long seed, int? batch, string? grid, bool json, TorchSharp.torch.Device device)
    {
        var scorerDir = parse.GetValue(Scorer) ?? throw new UsageException("eval --model needs --scorer CLIPDIR");
        var metric = parse.GetValue(Metric) switch
        {
            "clip" => ClipMetric.Clip,
            "pick" => ClipMetric.Pick,
            var other => throw new OptionValueException($"--metric '{other}': expected clip or pick"),
        };
        var spec = parse.GetValue(UNetSpec);
        var weights = parse.GetValue(UNetWeights);
        if ((spec is null) != (weights is null)) throw new UsageException("--unet-spec and --unet-weights go together");
        var request = new PipelineEvaluationRequest
        {
            Prompts = Prompts.Read(parse), Steps = steps, GuidanceScale = guidance ?? 7.5, Seed = seed, BatchSize = batch ?? 4, Metric = metric,
        };

        var folder = PipelineFolder.Open(parse.GetValue(Model)!.FullName);
        using var scorer = ClipScorer.Load(scorerDir.FullName, device: device);
        using var model = TextToImagePipeline.Load(folder, spec is null ? null : new UNetReplacement(spec.FullName, weights!.FullName), device: device);
        using var teacher = spec is null ? null : TextToImagePipeline.Load(folder, device: device);
        var (report, images) = PipelineEvaluator.Run(model, teacher, scorer, request, json ? null : line => context.Error.WriteLine(line));
        using (images)
            if (grid is not null)
            {
                int shown = Math.Min(16, report.Images);
                PngImages.WriteGrid(grid, images.narrow(0, 0, shown), request.Prompts.Take(shown).ToList());
            }

        static object Ci(Estimate e) => new { value = e.Value, low = e.Low, high = e.High };
        string name = model.UNet.Layout.Spec.Name, metricName = metric == ClipMetric.Clip ? "clip" : "pick";
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new
            {
                model = folder.Directory, unet = name, @params = model.UNet.Layout.TotalParamCount, images = report.Images, steps = request.Steps,
                guidance = request.GuidanceScale, seed = request.Seed, metric = metricName, score = Ci(report.Score),
                teacher_image_mse = report.TeacherImageMse is { } m ? Ci(m) : null, ms_per_image = report.MsPerImage, scores = report.Scores,
            }));
            return ExitCodes.Ok;
        }
        static string Fmt(Estimate e, string f) => $"{e.Value.ToString(f, CultureInfo.InvariantCulture)} [{e.Low.ToString(f, CultureInfo.InvariantCulture)}, {e.High.ToString(f, CultureInfo.InvariantCulture)}]";
        context.Out.WriteLine($"{name} ({model.UNet.Layout.TotalParamCount:N0} U-Net params): {report.Images} images, {request.Steps} steps, guidance {request.GuidanceScale}, seed {request.Seed} (95% bootstrap intervals)");
        context.Out.WriteLine($"  {(metric == ClipMetric.Clip ? "CLIP score" : "PickScore"),-18}{Fmt(report.Score, "F3")}");
        if (report.TeacherImageMse is { } mse) context.Out.WriteLine($"  image MSE to teacher {Fmt(mse, "E3")}");
        context.Out.WriteLine($"  latency           {report.MsPerImage:F0} ms per image");
        if (grid is not null) context.Out.WriteLine($"  grid              {grid}");
        return ExitCodes.Ok;
    }
}
