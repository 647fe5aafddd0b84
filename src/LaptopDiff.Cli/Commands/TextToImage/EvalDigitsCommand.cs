using LaptopDiff.Digits.Evaluation;
using System.CommandLine;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using System.Text.Json;
using LaptopDiff.Cli.Commands.Digits;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Sampling;
using LaptopDiff.Runtime.Vae;
using static TorchSharp.torch;

namespace LaptopDiff.Cli.Commands.TextToImage;

/// <summary>
/// <c>laptop-diff eval-digits --model DIR [--samples-per-class 20] [--steps 25] [--guidance 3] [--seed 0] [--batch 50]
/// [--grid PNG] [--heldout-grid PNG] [--json]</c>: a text-to-image pipeline trained on digits, scored by the digit classifier.
/// </summary>
public static class EvalDigitsCommand
{
    private static readonly Option<DirectoryInfo> ModelOption = new("--model") { Description = "A StableDiffusionPipeline folder whose images are 32x32 digits", Required = true };
    private static readonly Option<FileInfo?> UNetSpecOption = new("--unet-spec") { Description = "A student U-Net spec (pruned from the folder's unet/config.json) to evaluate in place of the folder's U-Net" };
    private static readonly Option<FileInfo?> UNetWeightsOption = new("--unet-weights") { Description = "The student's weights (with --unet-spec)" };
    private static readonly Option<FileInfo> ClassifierOption = new("--classifier") { Description = "The digit classifier", DefaultValueFactory = _ => new FileInfo(Path.Combine("models", "digits", "classifier.safetensors")) };
    private static readonly Option<FileInfo> MnistOption = new("--mnist") { Description = "The MNIST file (its held-out split is the reference)", DefaultValueFactory = _ => new FileInfo(Path.Combine("models", "digits", "mnist.safetensors")) };
    private static readonly Option<int> SamplesPerClassOption = new("--samples-per-class") { Description = "Samples per digit and caption set", DefaultValueFactory = _ => 20 };
    private static readonly Option<int> StepsOption = new("--steps") { Description = "DDIM steps", DefaultValueFactory = _ => 25 };
    private static readonly Option<double> GuidanceOption = new("--guidance") { Description = "Classifier-free guidance scale (against the empty prompt)", DefaultValueFactory = _ => 3.0 };
    private static readonly Option<long> SeedOption = CommonOptions.Seed("the starting noise");
    private static readonly Option<int> BatchOption = new("--batch") { Description = "Samples per sampler batch", DefaultValueFactory = _ => 50 };
    private static readonly Option<FileInfo?> GridOption = new("--grid") { Description = "The first 8 samples per digit for training-style captions as a PNG" };
    private static readonly Option<FileInfo?> HeldOutGridOption = new("--heldout-grid") { Description = "The same for the held-out phrasings" };
    private static readonly Option<FileInfo?> SaveSamplesOption = new("--save-samples") { Description = "Write the samples of the training-style captions (tensor 'image', [N,3,H,W] in [0,1], as generate writes it) to this .safetensors file" };
    private static readonly Option<FileInfo?> TeacherSamplesOption = new("--teacher-samples")
    {
        Description = "With --unet-spec: the folder U-Net's own training-style samples (--save-samples of its evaluation at the same settings); the teacher then samples only its first batch again, for its time and to check them",
    };
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the pipelines");
    private static readonly JsonOption JsonOption = CommonOptions.Json();

    private const string Details = """
        Samples 10 x N images per caption set (training-style templates and held-out phrasings never seen in
        training) with DDIM and classifier-free guidance against the empty prompt, decodes them, and scores them
        with the digit classifier: alignment (the share classified as the captioned digit) and Frechet distance
        in the classifier's features against the held-out digits, both with 95% bootstrap intervals. Also reports
        the VAE's reconstruction MSE on the held-out digits. With --unet-spec/--unet-weights a student U-Net
        samples in place of the folder's own, which then samples the training-style captions from the same noise
        in the same run: the image MSE to it (pixel values in [0, 1]) and both sampling times; the VAE's
        reconstruction (unchanged by a student) is then not measured again. With --teacher-samples (what
        --save-samples wrote when the folder's U-Net was evaluated alone, at the same settings) the image
        MSE is taken against those, and the teacher samples only its first batch again, timed: a first
        batch that differs from the file by more than 1e-3 is exit 2 (another teacher, prompts or
        settings). Every timed sampling follows an untimed one-step warm-up of its first batch.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("eval-digits", "Score a digits text-to-image pipeline with the digit classifier: VAE reconstruction, alignment on training-style and held-out captions, Frechet distance", Details)
        {
            ModelOption, UNetSpecOption, UNetWeightsOption, ClassifierOption, MnistOption, SamplesPerClassOption, StepsOption, GuidanceOption, SeedOption, BatchOption,
            GridOption, HeldOutGridOption, SaveSamplesOption, TeacherSamplesOption, ThreadsOption, DeviceOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var folder = PipelineFolder.Open(parse.GetValue(ModelOption)!.FullName);
            var (spec, weights) = (parse.GetValue(UNetSpecOption), parse.GetValue(UNetWeightsOption));
            if ((spec is null) != (weights is null)) throw new UsageException("--unet-spec and --unet-weights go together");
            var student = spec is null ? null : new UNetReplacement(spec.FullName, weights!.FullName);
            var teacherSamplesFile = parse.GetValue(TeacherSamplesOption);
            if (teacherSamplesFile is not null && student is null) throw new UsageException("--teacher-samples goes with --unet-spec: it replaces the teacher's sampling beside a student");
            var saveSamples = parse.GetValue(SaveSamplesOption);
            var device = DeviceOption.Read(parse);
            using var sampler = new TextToImageSampler(TextToImagePipeline.Load(folder, student, device: device));
            using var teacher = student is null ? null : TextToImageSampler.Open(folder, device);
            var options = new DigitsEvaluationOptions
            {
                SamplesPerClass = parse.GetValue(SamplesPerClassOption), Steps = parse.GetValue(StepsOption), GuidanceScale = parse.GetValue(GuidanceOption),
                Seed = parse.GetValue(SeedOption), Batch = parse.GetValue(BatchOption), Schedule = SchedulerNoise.Read(folder),
            };
            try { options.Validate(); } catch (ArgumentException e) { throw new OptionValueException(e.Message); }
            bool json = parse.GetValue(JsonOption);

            using var classifier = DigitClassifier.Load(parse.GetValue(ClassifierOption)!.FullName);
            using var heldOut = MnistDigits.Load(parse.GetValue(MnistOption)!.FullName, MnistSplit.HeldOut);
            // a student changes only the U-Net: the VAE's figures are the folder's own, reported where it is evaluated alone
            var vae = student is null ? DigitsPipelineEvaluator.Reconstruction(sampler.Vae, classifier, heldOut) : null;
            using var teacherSamples = teacherSamplesFile is null ? null : ReadSamples(teacherSamplesFile.FullName);
            using var evaluator = new DigitsEvaluator(classifier, heldOut, options);
            var pipeline = new DigitsPipelineEvaluator(evaluator, sampler, teacher);
            int total = options.SamplesPerClass * MnistDigits.ClassCount;
            var reports = new List<CaptionAlignmentReport>();
            foreach (var (set, grid) in new[] { (CaptionSet.Training, parse.GetValue(GridOption)), (CaptionSet.HeldOut, parse.GetValue(HeldOutGridOption)) })
                reports.Add(pipeline.Evaluate(set,
                    new SynchronousProgress<int>(done => { if (!json) context.Error.WriteLine($"[eval-digits] {set}: sampled {done}/{total}"); }),
                    (samples, labels) =>
                    {
                        if (grid != null)
                            SampleGrid.WritePng(grid.FullName, samples, labels, MnistDigits.ClassCount, Math.Min(8, options.SamplesPerClass),
                                $"{(set == CaptionSet.Training ? "training-style" : "held-out")} captions: DDIM {options.Steps}, guidance {options.GuidanceScale}");
                    }, againstTeacher: teacher != null && set == CaptionSet.Training,
                    teacherSamples: set == CaptionSet.Training ? teacherSamples : null,
                    withImages: saveSamples is null || set != CaptionSet.Training ? null : images => WriteSamples(saveSamples.FullName, images, options)));
            Print(context, json, folder, sampler, vae, reports, options);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Decoded images [N,3,H,W] in [-1,1] as [0,1] RGB, the tensor generate writes (atomically: a killed run leaves no half file).</summary>
    private static void WriteSamples(string path, Tensor images, DigitsEvaluationOptions o)
    {
        using var scope = NewDisposeScope();
        var metadata = new Dictionary<string, string>
        {
            ["captions"] = "training", ["seed"] = $"{o.Seed}", ["steps"] = $"{o.Steps}", ["guidance"] = o.GuidanceScale.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["samples_per_class"] = $"{o.SamplesPerClass}",
        };
        SafetensorsFile.Save(path, [KeyValuePair.Create(ScoredImages.TensorName, AutoencoderKL.ToUnitRange(images).contiguous())], metadata);
    }

    /// <summary>A --save-samples file back as [N,3,H,W] in [-1,1].</summary>
    private static Tensor ReadSamples(string path)
    {
        using var saved = ScoredImages.Load(path);                                // tensor 'image', [N,3,H,W] in [0,1], checked
        using var scope = NewDisposeScope();
        return AutoencoderKL.FromUnitRange(cat(saved.Images.ToList())).MoveToOuterDisposeScope();
    }

    private static void Print(CliContext context, bool json, PipelineFolder folder, TextToImageSampler sampler, VaeReconstructionReport? vae,
        IReadOnlyList<CaptionAlignmentReport> reports, DigitsEvaluationOptions o)
    {
        static object Ci(Estimate e) => new { value = e.Value, low = e.Low, high = e.High };
        object Scores(CaptionAlignmentReport r) => new
        {
            alignment = Ci(r.Report.ClassAlignment),
            class_accuracy = r.Report.ClassAccuracy,
            frechet_distance = Ci(r.Report.FrechetDistance),
            teacher_mse = r.Report.TeacherMse is { } mse ? Ci(mse) : null,
            sampling_ms_per_sample = r.Report.SamplingMsPerSample,
            teacher_sampling_ms_per_sample = r.TeacherMsPerSample,
            samples = r.Report.Samples,
        };
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new
            {
                model = folder.Directory,
                unet_params = sampler.UNet.Layout.TotalParamCount,
                steps = o.Steps,
                guidance = o.GuidanceScale,
                seed = o.Seed,
                vae = vae is null ? null : new { mse = vae.Mse, psnr_db = vae.PsnrDb, classifier_accuracy_reconstructed = vae.ReconstructedAccuracy, classifier_accuracy_original = vae.OriginalAccuracy, images = vae.Images },
                training_captions = Scores(reports[0]),
                heldout_captions = Scores(reports[1]),
            }, JsonOptions.Indented));
            return;
        }
        static string Fmt(Estimate e, string f) => $"{e.Value.ToString(f)} [{e.Low.ToString(f)}, {e.High.ToString(f)}]";
        context.Out.WriteLine($"{folder.Directory}: DDIM {o.Steps} steps, guidance {o.GuidanceScale}, seed {o.Seed}, {o.SamplesPerClass} samples per digit (95% bootstrap intervals)");
        if (vae is not null)
            context.Out.WriteLine($"  VAE on {vae.Images} held-out digits: MSE {vae.Mse:F5} (PSNR {vae.PsnrDb:F2} dB), classifier {vae.ReconstructedAccuracy:P2} on reconstructions vs {vae.OriginalAccuracy:P2} on originals");
        foreach (var r in reports)
        {
            context.Out.WriteLine($"  {(r.Captions == CaptionSet.Training ? "training-style captions" : "held-out phrasings")}:");
            context.Out.WriteLine($"    alignment         {Fmt(r.Report.ClassAlignment, "P1")}");
            context.Out.WriteLine($"    per digit         {string.Join(" ", r.Report.ClassAccuracy.Select((a, c) => $"{c}:{a:P0}"))}");
            context.Out.WriteLine($"    Frechet distance  {Fmt(r.Report.FrechetDistance, "F2")}");
            context.Out.WriteLine($"    sampling          {r.Report.SamplingMsPerSample:F0} ms per sample" +
                                  (r.TeacherMsPerSample is { } t ? $" (teacher {t:F0} ms in this run)" : ""));
            if (r.Report.TeacherMse is { } mse) context.Out.WriteLine($"    image MSE to the teacher  {Fmt(mse, "F5")}");
        }
    }
}
