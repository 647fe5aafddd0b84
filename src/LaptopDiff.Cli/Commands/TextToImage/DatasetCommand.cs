using System.CommandLine;
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
    private static readonly Option<DirectoryInfo> OutputOption = new("--output") { Description = "The shards' folder to create (must not exist)", Required = true };
    private static readonly Option<int> ShardSizeOption = new("--shard-size") { Description = "Images per shard", DefaultValueFactory = _ => 1000 };
    private static readonly Option<string> NameOption = new("--name") { Description = "Shard name: NAME-00001-of-0000K.safetensors", DefaultValueFactory = _ => "data" };
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Images per VAE and text-encoder forward", DefaultValueFactory = _ => 64 };
    private static readonly Option<int?> ThreadsOption = new("--threads") { Description = "Intra-op threads (default: libtorch's choice)" };
    private static readonly Option<bool> JsonOption = new("--json") { Description = "Print one JSON object: samples, skipped, shards" };

    public static Command Create(CliContext context)
    {
        var command = new Command("dataset", "Encode a captioned image folder into training shards (latents, encoder_hidden_states, input_ids, the empty prompt's states) with a pipeline's VAE and text encoder")
        {
            ModelOption, ImagesOption, OutputOption, ShardSizeOption, NameOption, BatchOption, ThreadsOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, () =>
        {
            if (parse.GetValue(ThreadsOption) is int threads)
            {
                if (threads < 1) throw new UsageException($"--threads must be at least 1, got {threads}");
                TorchSharp.torch.set_num_threads(threads);
            }
            int shardSize = parse.GetValue(ShardSizeOption), batch = parse.GetValue(BatchOption);
            if (shardSize < 1 || batch < 1) throw new UsageException($"--shard-size and --batch must be at least 1, got {shardSize} and {batch}");
            var name = parse.GetValue(NameOption)!;
            if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0) throw new UsageException($"--name '{name}' is not a file name");
            bool json = parse.GetValue(JsonOption);
            var report = DatasetWriter.Write(new DatasetRequest
            {
                ModelDir = parse.GetValue(ModelOption)!.FullName,
                ImagesDir = parse.GetValue(ImagesOption)!.FullName,
                OutputDir = parse.GetValue(OutputOption)!.FullName,
                ShardSamples = shardSize,
                Name = name,
                Batch = batch,
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
