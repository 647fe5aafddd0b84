using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LaptopDiff.Cli.Commands.Generate;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Images;

namespace LaptopDiff.Cli.Commands.Score;

/// <summary>
/// <c>laptop-diff score --scorer CLIPDIR --images FILE.safetensors|DIR --prompt P... [--prompts FILE] [--metric clip|pick] [--json]</c>:
/// one score per image, against the prompt of the same position.
/// </summary>
public static class ScoreCommand
{
    private static readonly Option<DirectoryInfo> ScorerOption = new("--scorer")
    {
        Description = "A transformers CLIPModel folder (config.json with text_config and vision_config, model.safetensors; e.g. CLIP ViT-L/14 or PickScore_v1)", Required = true,
    };
    private static readonly Option<DirectoryInfo?> ProcessorOption = new("--processor")
    {
        Description = "The folder of the scorer's processor (tokenizer files, preprocessor_config.json); default: the scorer folder (PickScore keeps its processor in a CLIP folder)",
    };
    private static readonly Option<string> ImagesOption = new("--images")
    {
        Description = "A .safetensors file with tensor 'image' [N,3,H,W] in [0,1] (generate --output X.safetensors), or a folder of RGB PNG files (name order)", Required = true,
    };
    private static readonly Option<string> MetricOption = new("--metric")
    {
        Description = "clip: CLIP score 100*max(cos,0); pick: PickScore-style exp(logit_scale)*cos", DefaultValueFactory = _ => "clip",
    };
    private static readonly PromptInputs Prompts = new();
    private static readonly JsonOption JsonOption = CommonOptions.Json("scores (one per image), metric, mean");
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the CLIP model's towers");

    private const string Details = """
        Image i is scored against prompt i (--prompt values first, then --prompts); one prompt scores
        every image. Preprocessing, embeddings and scores are transformers' CLIPModel and
        CLIPImageProcessor (shortest edge, antialiased bicubic, centre crop, mean/std), cosine in float64.
        A CLIP folder without a vision tower, an unreadable or non-RGB image, or counts that do not pair
        up are exit 2.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("score", "Score images against prompts with a CLIP model: CLIP score or PickScore", Details)
        {
            ScorerOption, ProcessorOption, ImagesOption, MetricOption, JsonOption, ThreadsOption, DeviceOption,
        };
        Prompts.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var metric = parse.GetValue(MetricOption) switch
            {
                "clip" => ClipMetric.Clip,
                "pick" => ClipMetric.Pick,
                var other => throw new OptionValueException($"--metric '{other}': expected clip or pick"),
            };
            var prompts = Prompts.Read(parse);
            using var images = ScoredImages.Load(Path.GetFullPath(parse.GetValue(ImagesOption)!));
            using var scorer = ClipScorer.Load(parse.GetValue(ScorerOption)!.FullName, parse.GetValue(ProcessorOption)?.FullName, DeviceOption.Read(parse));
            var scores = scorer.Score(images.Images, prompts, metric);
            double mean = scores.Average();
            if (parse.GetValue(JsonOption))
                context.Out.WriteLine(JsonSerializer.Serialize(new { scores, metric = metric == ClipMetric.Clip ? "clip" : "pick", mean }));
            else
            {
                for (int i = 0; i < scores.Length; i++)
                    context.Out.WriteLine($"{scores[i].ToString("F4", CultureInfo.InvariantCulture)}  {images.Names[i]}  {(prompts.Count == 1 ? prompts[0] : prompts[i])}");
                context.Out.WriteLine($"mean {mean.ToString("F4", CultureInfo.InvariantCulture)} over {scores.Length} images ({(metric == ClipMetric.Clip ? "CLIP score" : "PickScore")})");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
