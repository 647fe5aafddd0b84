using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Cli.Commands.Train;
using LaptopDiff.Runtime.Vae;

namespace LaptopDiff.Cli.Commands.TextToImage;

/// <summary>
/// <c>laptop-diff train-vae --config VAE.json --images DIR --steps N --output DIR [--kl-weight W] [optimizer and checkpoint options]</c>:
/// trains an AutoencoderKL from scratch on an image folder; writes OUTPUT/vae/ (config.json with the fitted scaling_factor,
/// diffusion_pytorch_model.safetensors).
/// </summary>
public static class TrainVaeCommand
{
    private static readonly Option<FileInfo> ConfigOption = new("--config") { Description = "A diffusers AutoencoderKL config.json (images are trained at its sample_size)", Required = true };
    private static readonly Option<DirectoryInfo> ImagesOption = new("--images") { Description = "An image folder (Hugging Face imagefolder layout; captions are not needed); unreadable or non-RGB images are skipped and reported", Required = true };
    private static readonly Option<double> KlWeightOption = new("--kl-weight") { Description = "Weight of the KL term per pixel value against the per-value reconstruction MSE", DefaultValueFactory = _ => 1e-3 };

    private const string Details = """
        Trains on reconstruction MSE plus a KL term; after training, scaling_factor is set to 1 / std of the
        latents of the training images. Resumable checkpoints and log.jsonl as in train.
        """;

    public static Command Create(CliContext context)
    {
        var shared = new TrainingOptionSet();
        var command = new VerbCommand("train-vae", "Train an AutoencoderKL from scratch on an image folder (reconstruction MSE + KL); resumable; writes OUTPUT/vae/ with its scaling_factor", Details)
        {
            ConfigOption, ImagesOption, KlWeightOption,
        };
        shared.AddTo(command, diffusion: false);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var request = new VaeTrainRequest
            {
                ConfigPath = parse.GetValue(ConfigOption)!.FullName,
                ImagesDir = parse.GetValue(ImagesOption)!.FullName,
                Options = shared.Read(parse),
                KlWeight = parse.GetValue(KlWeightOption),
                OutputDir = parse.GetValue(shared.Output)!.FullName,
                Resume = parse.GetValue(shared.Resume),
                Device = shared.Device.Read(parse),
            };
            if (!(request.KlWeight >= 0)) throw new OptionValueException($"--kl-weight must be >= 0, got {request.KlWeight}");
            using var signal = new InterruptSignal(ReferenceEquals(context.Error, Console.Error));
            var outcome = TrainingProgressView.Run(context.Error, "train-vae", parse.GetValue(shared.LogEvery),
                (progress, log) => VaeTraining.Run(request, signal.Token, progress, log));
            return TrainingReport.Write(context, outcome, request.OutputDir, VaeTraining.ComponentFolder, parse.GetValue(shared.Json));
        }));
        return command;
    }
}
