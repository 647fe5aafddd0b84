using System.CommandLine;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Training;

namespace LaptopDiff.Cli.Commands.Train;

/// <summary>The options <c>train</c> and <c>distill</c> share: the optimizer, schedule, checkpoints and noise.</summary>
internal sealed class TrainingOptionSet
{
    public readonly Option<FileInfo> Data = new("--data") { Description = "Training set in the calibration format (latents + encoder_hidden_states, or latents + labels with --conditioner); see src/LaptopDiff.Runtime/Calibration/README.md", Required = true };
    public readonly Option<DirectoryInfo> Output = CommonOptions.Output<DirectoryInfo>("Run folder: checkpoints/, log.jsonl and the final weights");
    public readonly Option<int> Steps = new("--steps") { Description = "Optimizer steps", Required = true };
    public readonly Option<int> Batch = new("--batch") { Description = "Samples per forward", DefaultValueFactory = _ => 16 };
    public readonly Option<int> Accumulation = new("--grad-accum") { Description = "Micro-batches per optimizer step", DefaultValueFactory = _ => 1 };
    public readonly Option<double> LearningRate = new("--lr") { Description = "Peak learning rate (AdamW)", DefaultValueFactory = _ => 1e-4 };
    public readonly Option<int> Warmup = new("--warmup") { Description = "Linear warmup steps", DefaultValueFactory = _ => 0 };
    public readonly Option<string> Decay = new("--lr-schedule") { Description = "After warmup: constant or cosine (to 0 at the last step)", DefaultValueFactory = _ => "constant" };
    public readonly Option<double> WeightDecay = new("--weight-decay") { Description = "AdamW decoupled weight decay", DefaultValueFactory = _ => 1e-2 };
    public readonly Option<double> Clip = new("--grad-clip") { Description = "Max global gradient norm (0 = off)", DefaultValueFactory = _ => 1.0 };
    public readonly Option<double> Ema = new("--ema") { Description = "EMA decay of the trained weights (0 = off); the EMA weights are written as unet-ema*.safetensors", DefaultValueFactory = _ => 0.0 };
    public readonly Option<double> Dropout = new("--cfg-dropout") { Description = "Probability of replacing a sample's conditioning by the null label (zeros for encoder states)", DefaultValueFactory = _ => 0.1 };
    public readonly Option<long> Seed = CommonOptions.Seed("the initial weights, data order, timesteps, noise and dropout");
    public readonly Option<int> CheckpointEvery = new("--checkpoint-every") { Description = "Steps between checkpoints (one is always written at the end)", DefaultValueFactory = _ => 500 };
    public readonly Option<int> Keep = new("--keep-checkpoints") { Description = "Checkpoints kept (older ones are deleted)", DefaultValueFactory = _ => 3 };
    public readonly Option<bool> Resume = new("--resume") { Description = "Continue the run in --output from its newest checkpoint (refused if the inputs or options differ)" };
    public readonly ThreadsOption Threads = CommonOptions.Threads();
    public readonly DeviceOption Device = CommonOptions.Device("the models and every training step");
    public readonly ScheduleOptions Schedule = new();
    public readonly Option<int> LogEvery = new("--log-every") { Description = "Without a terminal: a progress line every this many steps (log.jsonl has every step)", DefaultValueFactory = _ => 10 };
    public readonly JsonOption Json = CommonOptions.Json("status, step, checkpoint, weights, log, steps_per_second, final terms");

    /// <param name="diffusion">False for a run that trains no denoiser (e.g. a VAE): without --data, --cfg-dropout and the noise schedule.</param>
    public void AddTo(Command command, bool diffusion = true)
    {
        Option[] diffusionOnly = [Data, Dropout, .. Schedule.All];
        foreach (var o in (Option[])[Data, Output, Steps, Batch, Accumulation, LearningRate, Warmup, Decay, WeightDecay, Clip, Ema, Dropout,
                     Seed, CheckpointEvery, Keep, Resume, Threads, Device, .. Schedule.All, LogEvery, Json])
            if (diffusion || !diffusionOnly.Contains(o)) command.Options.Add(o);
        _diffusion = diffusion;
    }

    private bool _diffusion = true;

    /// <summary>The options; out-of-range values are usage errors naming the value.</summary>
    public TrainingOptions Read(ParseResult parse)
    {
        if (parse.GetValue(LogEvery) < 1) throw new OptionValueException($"--log-every must be at least 1, got {parse.GetValue(LogEvery)}");
        return OptionValues.Checked(() => new TrainingOptions
        {
            Steps = parse.GetValue(Steps),
            BatchSize = parse.GetValue(Batch),
            GradientAccumulation = parse.GetValue(Accumulation),
            LearningRate = parse.GetValue(LearningRate),
            WarmupSteps = parse.GetValue(Warmup),
            Decay = parse.GetValue(Decay) switch
            {
                "constant" => LearningRateDecay.Constant,
                "cosine" => LearningRateDecay.Cosine,
                var other => throw new ArgumentException($"--lr-schedule '{other}': expected constant or cosine"),
            },
            WeightDecay = parse.GetValue(WeightDecay),
            GradientClip = parse.GetValue(Clip),
            EmaDecay = parse.GetValue(Ema),
            ConditioningDropout = _diffusion ? parse.GetValue(Dropout) : 0,
            Seed = parse.GetValue(Seed),
            CheckpointEvery = parse.GetValue(CheckpointEvery),
            KeepCheckpoints = parse.GetValue(Keep),
            Schedule = _diffusion ? Schedule.Read(parse) : NoiseSchedule.StableDiffusion,
        }.Validate());
    }
}
