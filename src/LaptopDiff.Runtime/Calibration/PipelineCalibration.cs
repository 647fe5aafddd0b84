using System.Globalization;
using System.Text.Json;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Randomness;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Spec;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Calibration;

/// <summary>How a calibration set is drawn from a pipeline (<see cref="PipelineCalibration.Build"/>).</summary>
public sealed record PipelineCalibrationRequest
{
    /// <summary>The prompts of the teacher's trajectories; sample j takes prompt <c>order[j mod P]</c> of a seeded order. Unused with <see cref="ImageFolder"/>.</summary>
    public IReadOnlyList<string> Prompts { get; init; } = [];
    /// <summary>A Hugging Face imagefolder of captioned images; null = data-free, from the teacher's own DDIM trajectories.</summary>
    public string? ImageFolder { get; init; }
    public int Samples { get; init; } = 64;
    /// <summary>Seeds the prompt or image order, the kept steps, the trajectories' noise (sample j: seed + j) and the images' noise.</summary>
    public long Seed { get; init; }
    /// <summary>DDIM inference steps of each trajectory.</summary>
    public int Steps { get; init; } = 25;
    /// <summary>Classifier-free guidance of the trajectories (1 or less: the conditional half only).</summary>
    public double GuidanceScale { get; init; } = 7.5;
    /// <summary>Samples per U-Net or VAE batch: speed and memory only (float rounding aside, the values do not depend on it).</summary>
    public int BatchSize { get; init; } = 4;
}

/// <summary>
/// A calibration set made from a pipeline, in memory (format 2 of README.md in this folder): its tensors in file
/// order, its metadata, and what happened on the way. Owns its tensors.
/// </summary>
public sealed class PipelineCalibrationSet(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata,
    IReadOnlyList<string> prompts, IReadOnlyList<SkippedImage> skipped, IReadOnlyList<PromptTruncation> truncations) : IDisposable
{
    public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors { get; } = tensors;
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;
    /// <summary>Each sample's prompt or caption, in sample order.</summary>
    public IReadOnlyList<string> Prompts { get; } = prompts;
    /// <summary>Images left out (unreadable, not RGB), with why.</summary>
    public IReadOnlyList<SkippedImage> Skipped { get; } = skipped;
    /// <summary>Prompts cut to the tokenizer's length (indices are sample indices).</summary>
    public IReadOnlyList<PromptTruncation> Truncations { get; } = truncations;
    public int Count => Prompts.Count;

    public Tensor this[string name] => Tensors.First(t => t.Key == name).Value;

    /// <summary>Writes the set atomically (a temporary file renamed), so a failed run leaves nothing half written.</summary>
    public void Save(string path) => Weights.SafetensorsFile.Save(path, Tensors, Metadata);

    public void Dispose()
    {
        foreach (var (_, t) in Tensors) t.Dispose();
    }
}

/// <summary>
/// Calibration sets from a text-to-image pipeline, conditioned as the pipeline conditions its U-Net (SD: the text
/// encoder's states; SDXL: both encoders, the pooled <c>text_embeds</c> and <c>time_ids</c>):
/// <list type="bullet">
/// <item>data-free (the default): seeded DDIM trajectories of the teacher itself; sample j keeps the state x_t entering a
/// seeded random step k_j (<c>noisy_latents</c>, <c>timesteps</c>), and as <c>latents</c> the x_0 the guided prediction
/// implies there, so training reads a clean estimate;</item>
/// <item>from captioned images: the VAE's latent means (times <c>scaling_factor</c>) as <c>latents</c>, noised at
/// stratified timesteps as the sweep would (<see cref="CalibrationNoising"/>) into <c>noisy_latents</c>.</item>
/// </list>
/// Both carry the unconditional conditioning guidance uses (<c>negative_*</c>: the empty prompt, or zeros for SDXL folders
/// that force them). Sample j depends only on (seed, j) and the folder. The models run on the pipeline's device; seeded noise is
/// drawn on the CPU and moved there, so the set does not depend on the device beyond float rounding (it is saved from the CPU).
/// </summary>
public static class PipelineCalibration
{
    public static PipelineCalibrationSet Build(TextToImagePipeline pipeline, PipelineCalibrationRequest request, Action<string>? log = null)
    {
        if (request.Samples < 1) throw new SettingException(nameof(request.Samples), request.Samples, "must be at least 1");
        if (request.BatchSize < 1) throw new SettingException(nameof(request.BatchSize), request.BatchSize, "must be at least 1");
        var columns = new Columns();
        try
        {
            var (prompts, skipped, source) = request.ImageFolder is { } dir
                ? FromImages(pipeline, request, dir, columns, log)
                : FromTrajectories(pipeline, request, columns, log);
            var truncations = new List<PromptTruncation>();
            AddConditioning(pipeline, request, prompts, columns, truncations);
            var spec = pipeline.UNet.Layout.Spec;
            var metadata = new Dictionary<string, string>
            {
                [CalibrationFormat.FormatKey] = CalibrationFormat.VersionWithStates,
                [CalibrationFormat.SourceKey] = source,
                [CalibrationFormat.SpecKey] = $"{spec.Name} {SpecHash.Compute(spec)}",
                [CalibrationFormat.SeedKey] = request.Seed.ToString(CultureInfo.InvariantCulture),
                [CalibrationFormat.ModelKey] = pipeline.Folder.Directory,
                [CalibrationFormat.CaptionsKey] = JsonSerializer.Serialize(prompts),
                [CalibrationFormat.ToolKey] = "LaptopDiff PipelineCalibration",
            };
            return new PipelineCalibrationSet(columns.Join(), metadata, prompts, skipped, truncations);
        }
        finally
        {
            columns.Dispose();
        }
    }

    private static (List<string>, IReadOnlyList<SkippedImage>, string) FromTrajectories(TextToImagePipeline pipeline, PipelineCalibrationRequest r,
        Columns columns, Action<string>? log)
    {
        if (r.Prompts.Count == 0) throw new InputException("no prompts: calibration from the teacher's own trajectories needs at least one prompt.");
        var order = new SeededRandom(r.Seed, RandomPurpose.CalibrationOrder, 0).Permutation(r.Prompts.Count);
        var prompts = Enumerable.Range(0, r.Samples).Select(j => r.Prompts[order[j % r.Prompts.Count]]).ToList();
        var keptSteps = Enumerable.Range(0, r.Samples)
            .Select(j => Math.Min(r.Steps - 1, (int)(new SeededRandom(r.Seed, RandomPurpose.CalibrationStep, j).Uniform(0) * r.Steps))).ToArray();
        var schedulerConfig = SchedulerConfig.Load(pipeline.Folder.Scheduler.ConfigPath!);

        for (int start = 0; start < r.Samples; start += r.BatchSize)
        {
            int count = Math.Min(r.BatchSize, r.Samples - start);
            var batchPrompts = prompts.GetRange(start, count);
            var batchSteps = keptSteps.AsSpan(start, count).ToArray();
            var plan = TextToImagePlan.Create(
                new TextToImageRequest { Prompts = batchPrompts, Steps = r.Steps, GuidanceScale = r.GuidanceScale, Scheduler = SchedulerKind.Ddim },
                pipeline.UNet.Layout.Spec, pipeline.Vae.Config, schedulerConfig);
            var scheduler = (DdimScheduler)plan.Scheduler.CreateScheduler();
            scheduler.SetTimesteps(plan.Steps);

            using var scope = NewDisposeScope();
            using var conditional = pipeline.Prompts.Encode(batchPrompts);
            using var unconditional = plan.Guidance.IsGuided ? pipeline.Prompts.EncodeNegative(null, conditional) : null;
            using var conditioning = GuidedConditioning.Create(conditional, unconditional, plan.TimeIds);
            var noise = cat(Enumerable.Range(start, count)                                                    // [n,C,h,w], sample j from seed + j
                .Select(j => InitialNoise.Draw(r.Seed + j, 1, plan.LatentChannels, plan.LatentHeight, plan.LatentWidth)).ToArray(), 0).to(pipeline.Device);
            var noisy = new Tensor[count];
            var clean = new Tensor[count];
            var timesteps = new long[count];
            var tap = new LoopTap(batchSteps.Max(), (k, x, eps) =>
            {
                for (int b = 0; b < count; b++)
                {
                    if (batchSteps[b] != k) continue;
                    noisy[b] = x.narrow(0, b, 1).clone().DetachFromDisposeScope();                               // [1,C,h,w]
                    clean[b] = scheduler.PredictOriginalSample(eps.narrow(0, b, 1), k, x.narrow(0, b, 1)).DetachFromDisposeScope();
                    timesteps[b] = (long)scheduler.Timesteps[k];
                }
            });
            DenoisingLoop.Run(pipeline.UNet, scheduler, noise, conditioning, plan.Guidance, tap: tap).Dispose();
            foreach (var t in clean) columns.Add(CalibrationFormat.Latents, t);
            foreach (var t in noisy) columns.Add(CalibrationFormat.NoisyLatents, t);
            columns.Add(CalibrationFormat.Timesteps, tensor(timesteps).DetachFromDisposeScope());
            log?.Invoke($"trajectories: {start + count} of {r.Samples} samples");
        }
        string source = $"teacher trajectories: DDIM {r.Steps} steps, guidance {r.GuidanceScale.ToString(CultureInfo.InvariantCulture)}, " +
                        $"{r.Prompts.Count} prompts, the state at a random step of each";
        return (prompts, [], source);
    }

    private static (List<string>, IReadOnlyList<SkippedImage>, string) FromImages(TextToImagePipeline pipeline, PipelineCalibrationRequest r, string dir,
        Columns columns, Action<string>? log)
    {
        var folder = ImageFolder.Read(dir, captionsRequired: true);
        int size = pipeline.UNet.Layout.Spec.SampleSize * pipeline.Vae.Config.DownscaleFactor;
        var order = new SeededRandom(r.Seed, RandomPurpose.CalibrationOrder, 0).Permutation(folder.Entries.Count);
        int wanted = Math.Min(r.Samples, folder.Entries.Count);

        // decode in batches along the seeded order until enough images are kept (or the folder is exhausted)
        var captions = new List<string>();
        var latents = new List<Tensor>();
        var skipped = new List<SkippedImage>();
        try
        {
            for (int next = 0; captions.Count < wanted && next < order.Length;)
            {
                var chunk = order.Skip(next).Take(Math.Min(r.BatchSize, wanted - captions.Count)).Select(i => folder.Entries[i]).ToList();
                next += chunk.Count;
                using var batch = ImageBatch.Load(chunk, size);
                skipped.AddRange(batch.Skipped);
                if (batch.Kept.Count == 0) continue;
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                using var distribution = pipeline.Vae.Encode(batch.Pixels.to(pipeline.Device));
                latents.Add(pipeline.Vae.ToLatents(distribution, generator: null).cpu().DetachFromDisposeScope()); // [n,C,h,w], the means, noised on the CPU
                captions.AddRange(batch.Kept.Select(e => e.Caption!));
                log?.Invoke($"images: {captions.Count} of {wanted} encoded" + (skipped.Count > 0 ? $", {skipped.Count} skipped" : ""));
            }
            if (captions.Count == 0)
                throw new InputException($"image folder '{folder.Directory}': none of its {folder.Entries.Count} images could be used ({ImageBatch.Describe(skipped)})");

            using var all = cat(latents, 0);                                                                     // [K,C,h,w]
            int kept = captions.Count;
            var prompts = Enumerable.Range(0, r.Samples).Select(j => captions[j % kept]).ToList();
            var schedule = SchedulerConfig.Load(pipeline.Folder.Scheduler.ConfigPath!).For(SchedulerKind.Ddim).Options.Schedule;
            var noising = new CalibrationNoising(r.Samples, new NoisingSettings { Seed = r.Seed, Schedule = schedule });
            for (int start = 0; start < r.Samples; start += r.BatchSize)
            {
                int count = Math.Min(r.BatchSize, r.Samples - start);
                using var scope = NewDisposeScope();
                var index = tensor(Enumerable.Range(start, count).Select(j => (long)(j % kept)).ToArray());
                var x0 = all.index_select(0, index);                                                              // [n,C,h,w]
                var (xt, timesteps) = noising.AddNoise(x0, start);
                columns.Add(CalibrationFormat.Latents, x0.DetachFromDisposeScope());
                columns.Add(CalibrationFormat.NoisyLatents, xt.DetachFromDisposeScope());
                columns.Add(CalibrationFormat.Timesteps, timesteps.DetachFromDisposeScope());
            }
            string source = $"images: {folder.Directory} ({kept} images{(kept < r.Samples ? ", repeated" : "")}, captions from {folder.CaptionSource}" +
                            $"{(skipped.Count > 0 ? "; " + ImageBatch.Describe(skipped) : "")}), VAE latent means noised at {NoisingSettings.TimestepScheme} timesteps";
            return (prompts, skipped, source);
        }
        finally
        {
            foreach (var t in latents) t.Dispose();
        }
    }

    /// <summary>The prompts' conditioning in batches, SDXL's time ids for the model's image size, and the unconditional row.</summary>
    private static void AddConditioning(TextToImagePipeline pipeline, PipelineCalibrationRequest r, List<string> prompts, Columns columns,
        List<PromptTruncation> truncations)
    {
        bool sdxl = pipeline.Prompts.PooledDim is not null;
        var spec = pipeline.UNet.Layout.Spec;
        int pixels = spec.SampleSize * pipeline.Vae.Config.DownscaleFactor;
        for (int start = 0; start < prompts.Count; start += r.BatchSize)
        {
            int count = Math.Min(r.BatchSize, prompts.Count - start);
            using var embeddings = pipeline.Prompts.Encode(prompts.GetRange(start, count));
            truncations.AddRange(embeddings.Truncations.Select(t => t with { PromptIndex = t.PromptIndex + start }));
            columns.Add(CalibrationFormat.EncoderHiddenStates, embeddings.PromptEmbeds.clone().DetachFromDisposeScope());   // [n,77,D]
            if (!sdxl) continue;
            columns.Add(CalibrationFormat.TextEmbeds, embeddings.PooledPromptEmbeds!.clone().DetachFromDisposeScope());     // [n,P]
            float[] ids = [pixels, pixels, 0, 0, pixels, pixels];                                                           // original size, crop, target size
            using var row = tensor(ids).reshape(1, 6);
            columns.Add(CalibrationFormat.TimeIds, row.repeat(count, 1));                                                  // [n,6]
        }
        using var empty = pipeline.Prompts.Encode([""]);
        using var negative = pipeline.Prompts.EncodeNegative(null, empty);
        columns.Add(CalibrationFormat.NegativeEncoderHiddenStates, negative.PromptEmbeds.clone().DetachFromDisposeScope());           // [1,77,D]
        if (sdxl) columns.Add(CalibrationFormat.NegativeTextEmbeds, negative.PooledPromptEmbeds!.clone().DetachFromDisposeScope());   // [1,P]
    }

    /// <summary>Tensors gathered per name in batches, joined along the samples at the end, in the file's order.</summary>
    private sealed class Columns : IDisposable
    {
        private static readonly string[] FileOrder =
        [
            CalibrationFormat.Latents, CalibrationFormat.NoisyLatents, CalibrationFormat.Timesteps, CalibrationFormat.EncoderHiddenStates,
            CalibrationFormat.TextEmbeds, CalibrationFormat.TimeIds, CalibrationFormat.NegativeEncoderHiddenStates, CalibrationFormat.NegativeTextEmbeds,
        ];
        private readonly Dictionary<string, List<Tensor>> _parts = new(StringComparer.Ordinal);

        public void Add(string name, Tensor part)
        {
            if (!_parts.TryGetValue(name, out var list)) _parts[name] = list = [];
            list.Add(part);
        }

        public IReadOnlyList<KeyValuePair<string, Tensor>> Join() => FileOrder.Where(_parts.ContainsKey)
            .Select(name => new KeyValuePair<string, Tensor>(name, cat(_parts[name], 0).contiguous().DetachFromDisposeScope())).ToList();

        public void Dispose()
        {
            foreach (var list in _parts.Values)
                foreach (var t in list) t.Dispose();
        }
    }
}
