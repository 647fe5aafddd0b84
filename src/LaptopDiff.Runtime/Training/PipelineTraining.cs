using System.Text.Json;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Runtime.Training;

/// <summary>What <c>laptop-diff train --model DIR</c> runs: a pipeline's U-Net, optionally with its text encoder, on a training set.</summary>
public sealed record PipelineTrainRequest
{
    /// <summary>A StableDiffusionPipeline folder with weights (e.g. from <see cref="PipelineInit"/>): the starting point.</summary>
    public required string ModelDir { get; init; }
    /// <summary>A training set in the calibration format (e.g. <c>laptop-diff dataset</c>'s shards); with the text encoder it needs <c>input_ids</c>.</summary>
    public required string DataPath { get; init; }
    /// <summary>The trajectory; its noise schedule is replaced by the folder's scheduler config.</summary>
    public required TrainingOptions Options { get; init; }
    public bool TrainTextEncoder { get; init; }
    /// <summary>
    /// Train the text encoder alone (no U-Net) on the caption-to-latent loss (<see cref="CaptionLatentObjective"/>): the
    /// first stage of a text encoder trained from scratch; the U-Net is then trained against it frozen. Implies
    /// <see cref="TrainTextEncoder"/>.
    /// </summary>
    public bool TextEncoderOnly { get; init; }
    /// <summary>The loss of a <see cref="TextEncoderOnly"/> run.</summary>
    public CaptionLoss CaptionLoss { get; init; } = CaptionLoss.Contrastive;
    /// <summary>Up to this many random vocabulary tokens inserted in each caption (<see cref="CaptionTokens"/>); text encoder runs only.</summary>
    public int FillerTokens { get; init; }
    /// <summary>Weight of the caption-to-latent auxiliary loss (<see cref="CaptionLatentHead"/>); 0 = none. Text encoder runs only.</summary>
    public double CaptionAuxWeight { get; init; }
    public required string OutputDir { get; init; }
    public bool Resume { get; init; }
    /// <summary>Where the U-Net, the text encoder, the caption heads and every step run (the CPU by default); batches are read on the CPU and moved.</summary>
    public TorchSharp.torch.Device Device { get; init; } = TorchSharp.torch.CPU;
    /// <summary>What to log about a trained text encoder once the run ends (e.g. how well it separates the captions it was trained on); null: nothing.</summary>
    public Func<ClipTextModel, ClipTokenizer, string>? DescribeTextEncoder { get; init; }
}

/// <summary>How a text encoder trained alone learns from captions and clean latents (<see cref="CaptionLatentObjective"/>).</summary>
public enum CaptionLoss
{
    /// <summary>CLIP's contrastive loss against a tiny latent encoder (<see cref="CaptionLatentContrast"/>).</summary>
    Contrastive,
    /// <summary>Regression of the clean latents from the states (<see cref="CaptionLatentHead"/>).</summary>
    Latent,
}

/// <summary>
/// Trains a Stable Diffusion folder's U-Net (and with <see cref="PipelineTrainRequest.TrainTextEncoder"/> its text
/// encoder, from the same denoising loss: <see cref="TextEncoderDenoisingObjective"/>) with the shared
/// <see cref="Trainer{TBatch}"/>: checkpoints, exact resume, SIGINT, NaN stop. The noise schedule is the folder's own
/// (<see cref="SchedulerNoise"/>). Dropped conditioning is the empty prompt: its ids for a trained text encoder, else the
/// set's <c>negative_encoder_hidden_states</c>. At the end it writes OUTPUT/pipeline/, a complete folder: the trained
/// U-Net and text encoder (EMA weights when EMA is on) beside copies of the VAE, tokenizer and scheduler, and
/// OUTPUT/loss.png and train.json.
/// </summary>
public static class PipelineTraining
{
    public const string PipelineFolderName = "pipeline";

    public static TrainingOutcome Run(PipelineTrainRequest request, CancellationToken cancel, Action<TrainingProgress>? onStep = null, Action<string>? log = null)
    {
        var folder = PipelineFolder.Open(request.ModelDir);
        if (folder.Kind != PipelineKind.StableDiffusion)
            throw new InputException($"'{folder.Directory}' is a {folder.ClassName}; only StableDiffusionPipeline folders are trained, so far");
        var options = (request.Options with { Schedule = SchedulerNoise.Read(folder) }).Validate();
        if (request.FillerTokens < 0) throw new ArgumentException($"filler tokens must be >= 0, got {request.FillerTokens}");
        if (!(request.CaptionAuxWeight >= 0)) throw new ArgumentException($"the auxiliary weight must be >= 0, got {request.CaptionAuxWeight}");
        var layout = folder.BuildUNetLayout();
        using var set = CalibrationSet.Load(request.DataPath, layout);
        bool trainTextEncoder = request.TrainTextEncoder || request.TextEncoderOnly;
        if (trainTextEncoder && set.InputIds is null)
            throw new InputException($"training set '{request.DataPath}' has no input_ids; training the text encoder needs the captions' token ids (make the set from captioned images)");
        using var unet = folder.LoadUNet();
        using var textEncoder = PipelineModels.LoadTextEncoder(folder);
        var tokenizer = PipelineModels.LoadTokenizer(folder);
        unet.MoveTo(request.Device);                                               // initialised on the CPU: the same weights on every device
        ModuleDevice.MoveTo(textEncoder, request.Device);

        var identity = new RunIdentity(options.IdentityFields().Concat(new Dictionary<string, string>
        {
            ["kind"] = "train-pipeline",
            ["spec"] = TeacherTraining.StructureHash(layout.Spec),
            ["unet"] = FileDigest.Sha256(folder.UNet.Weights!.Require().Files.Select(f => f.Path)),
            ["text_encoder"] = FileDigest.Sha256(folder.TextEncoder.Weights!.Require().Files.Select(f => f.Path)),
            ["data"] = set.Hash,
            ["train_text_encoder"] = request.TextEncoderOnly ? "only" : trainTextEncoder ? "yes" : "no",
            ["filler_tokens"] = request.FillerTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["caption_loss"] = request.TextEncoderOnly ? request.CaptionLoss.ToString() : "",
            ["caption_aux"] = request.CaptionAuxWeight.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        }));
        ITrainingObjective objective;
        CaptionTokens? captions = null;
        using var head = (request.TextEncoderOnly && request.CaptionLoss == CaptionLoss.Latent) || (!request.TextEncoderOnly && trainTextEncoder && request.CaptionAuxWeight > 0)
            ? new CaptionLatentHead(textEncoder.Config.HiddenSize, set.Latents.shape.Skip(1).ToArray())
            : null;
        if (head != null) SeededInitialization.Apply(head, options.Seed + 3);
        if (head != null) ModuleDevice.MoveTo(head, request.Device);
        using var contrast = request.TextEncoderOnly && request.CaptionLoss == CaptionLoss.Contrastive
            ? new CaptionLatentContrast(textEncoder.Config.HiddenSize, set.Latents.shape.Skip(1).ToArray())
            : null;
        if (contrast != null) SeededInitialization.Apply(contrast, options.Seed + 3);
        if (contrast != null) ModuleDevice.MoveTo(contrast, request.Device);
        if (trainTextEncoder)
        {
            objective = request.TextEncoderOnly
                ? contrast != null ? new CaptionLatentObjective(textEncoder, contrast) : new CaptionLatentObjective(textEncoder, head!)
                : new TextEncoderDenoisingObjective(unet, textEncoder, head, request.CaptionAuxWeight);
            captions = new CaptionTokens(tokenizer.EncodePadded(""), tokenizer.EosId, tokenizer.PadId,
                new HashSet<long> { tokenizer.BosId, tokenizer.EosId, tokenizer.PadId }, textEncoder.Config.VocabSize, request.FillerTokens);
        }
        else
        {
            if (set.NegativeEncoderHiddenStates is null && options.ConditioningDropout > 0)
                log?.Invoke("the set has no negative_encoder_hidden_states: dropped conditioning is zeros, not the empty prompt's states");
            objective = new DenoisingObjective(unet, null);
        }
        var data = new TrainingData(set, options, captions: captions);
        var trainer = new Trainer<TrainingBatch>(objective, data, options, identity, request.OutputDir);
        log?.Invoke($"{folder.Directory}: " + (request.TextEncoderOnly ? "no U-Net" : $"U-Net {layout.TotalParamCount:N0} parameters") +
                    (trainTextEncoder ? $" + text encoder {textEncoder.Config.ParamCount:N0} (trained, up to {request.FillerTokens} filler tokens" +
                        (request.TextEncoderOnly ? $", {request.CaptionLoss.ToString().ToLowerInvariant()} caption-latent loss only" : head != null ? $", caption-to-latent auxiliary x {request.CaptionAuxWeight}" : "") + ")" : "") +
                    $"; {set.Count} samples from {request.DataPath}; {options.Steps} steps of {options.BatchSize}x{options.GradientAccumulation}; noise {options.Schedule}");
        return trainer.Run(request.Resume, cancel, onStep, log, ema =>
        {
            foreach (var (prefix, module) in objective.Trained) ema?.CopyTo(module, prefix);   // the head is not shipped
            WritePipeline(folder, unet, trainTextEncoder ? textEncoder : null, Path.Combine(request.OutputDir, PipelineFolderName), identity);
            if (trainTextEncoder && request.DescribeTextEncoder is { } describe) log?.Invoke($"text encoder: {describe(textEncoder, tokenizer)}");
            var logPath = Path.Combine(request.OutputDir, TrainingLog.FileName);
            AtomicFile.Write(Path.Combine(request.OutputDir, LossCurvePlot.FileName),
                s => s.Write(LossCurvePlot.RenderPng(TrainingLog.Read(logPath),
                    head != null && !request.TextEncoderOnly ? [DenoisingObjective.TaskTerm, TextEncoderDenoisingObjective.AuxTerm] : [DenoisingObjective.TaskTerm])));
            var summary = new Dictionary<string, object>
            {
                ["model"] = folder.Directory,
                ["data"] = set.Files,
                ["schedule"] = options.Schedule.ToString(),
                ["identity"] = identity.Fields,
            };
            AtomicFile.WriteText(Path.Combine(request.OutputDir, "train.json"),
                JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        });
    }

    /// <summary>
    /// The trained folder: a copy of <paramref name="source"/> with the U-Net's (and, when given, the text encoder's) weights
    /// replaced, float32. Built beside <paramref name="target"/> and swapped in, so a reader sees the old or the new folder.
    /// </summary>
    public static void WritePipeline(PipelineFolder source, UNet2DCondition unet, ClipTextModel? textEncoder, string target, RunIdentity identity)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(target))!;
        var temp = Path.Combine(parent, $".{Path.GetFileName(target)}.partial-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(temp);
            File.Copy(source.ModelIndexPath, Path.Combine(temp, Path.GetFileName(source.ModelIndexPath)));
            var metadata = new Dictionary<string, string> { ["format"] = "pt", ["run"] = identity.ToJson(), ["tool"] = "laptop-diff train" };
            foreach (var component in source.Components)
            {
                var dir = Directory.CreateDirectory(Path.Combine(temp, component.Name)).FullName;
                if (component.Kind == ComponentKind.UNet)
                {
                    File.Copy(component.ConfigPath!, Path.Combine(dir, "config.json"));
                    WeightLoader.Save(unet, Path.Combine(dir, ComponentWeights.DiffusersBaseName + ".safetensors"), metadata);
                }
                else if (component.Kind == ComponentKind.TextEncoder && textEncoder != null)
                {
                    File.Copy(component.ConfigPath!, Path.Combine(dir, "config.json"));
                    WeightLoader.Save(textEncoder, Path.Combine(dir, ClipTextModel.WeightsFile), metadata);
                }
                else
                    foreach (var file in Directory.GetFiles(component.Folder)) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
            }
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(temp, target);
        }
        catch
        {
            try { if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true); }
            catch (IOException) { /* keep the original error */ }
            throw;
        }
    }
}
