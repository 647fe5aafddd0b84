using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using System.Text.Json;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Pipelines;

namespace LaptopDiff.Cli.Commands.TextToImage;

/// <summary>
/// <c>laptop-diff dataset --model DIR --images DIR --output SHARDS/ [--shard-size 1000] [--name data] [--batch 64] [--json]</c>:
/// a captioned image folder encoded once by a pipeline's VAE and text encoder into calibration-format shards.
/// </summary>
public static class DatasetCommand
{
    private static readonly Option<DirectoryInfo> ModelOption = new("--model") { Description = "A StableDiffusionPipeline folder (its VAE, tokenizer and text encoder encode the images and captions)", Required = true };
    private static readonly Option<DirectoryInfo> ImagesOption = new("--images") { Description = "An image folder: metadata.jsonl with file_name and text, or a .txt caption beside each image", Required = true };
    private static readonly Option<DirectoryInfo> OutputOption = CommonOptions.Output<DirectoryInfo>("The shards' folder to create (must not exist)");
    private static readonly Option<int> ShardSizeOption = new("--shard-size") { Description = "Images per shard", DefaultValueFactory = _ => 1000 };
    private static readonly Option<string> NameOption = new("--name") { Description = "Shard name: NAME-00001-of-0000K.safetensors", DefaultValueFactory = _ => "data" };
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Images per VAE and text-encoder forward", DefaultValueFactory = _ => 64 };
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the VAE and the text encoder");
    private static readonly JsonOption JsonOption = CommonOptions.Json("samples, skipped, shards");

    private const string Details = """
        Reads an image folder in the Hugging Face imagefolder convention (metadata.jsonl with file_name and text,
        or a .txt caption beside each image), resizes each image (shorter side to the pipeline's size) and
        centre-crops it, encodes it once with the VAE (posterior mean times scaling_factor) and its caption with
        the tokenizer and text encoder, and writes safetensors shards in the calibration format (latents,
        encoder_hidden_states, input_ids, the empty prompt's states for caption dropout). Unreadable, non-RGB or
        uncaptioned images are skipped and counted; a folder with none usable is refused (exit 2). The shard
        folder is written atomically: a failed run leaves none.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("dataset", "Encode a captioned image folder into training shards (latents, encoder_hidden_states, input_ids, the empty prompt's states) with a pipeline's VAE and text encoder", Details)
        {
            ModelOption, ImagesOption, OutputOption, ShardSizeOption, NameOption, BatchOption, ThreadsOption, DeviceOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            int shardSize = parse.GetValue(ShardSizeOption), batch = parse.GetValue(BatchOption);
            if (shardSize < 1 || batch < 1) throw new OptionValueException($"--shard-size and --batch must be at least 1, got {shardSize} and {batch}");
            var name = parse.GetValue(NameOption)!;
            if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0) throw new OptionValueException($"--name '{name}' is not a file name");
            bool json = parse.GetValue(JsonOption);
            var report = DatasetWriter.Write(new DatasetRequest
            {
                ModelDir = parse.GetValue(ModelOption)!.FullName,
                ImagesDir = parse.GetValue(ImagesOption)!.FullName,
                OutputDir = parse.GetValue(OutputOption)!.FullName,
                ShardSamples = shardSize,
                Name = name,
                Batch = batch,
                Device = DeviceOption.Read(parse),
            }, line => context.Error.WriteLine($"[dataset] {line}"));
            if (json)
                context.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    samples = report.Samples,
                    skipped = report.Skipped.Select(s => new { file = s.RelativePath, reason = s.Reason }),
                    shards = report.Shards,
                }, JsonOptions.Indented));
            else
            {
                context.Out.WriteLine($"wrote {report.Samples} samples in {report.Shards.Count} shards to {parse.GetValue(OutputOption)!.FullName}");
                if (report.Skipped.Count > 0) context.Out.WriteLine(ImageBatch.Describe(report.Skipped));
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
