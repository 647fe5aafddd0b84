using LaptopDiff.Digits.Evaluation;
using System.CommandLine;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Sampling;
using static TorchSharp.torch;

namespace LaptopDiff.Cli.Commands.Digits;

/// <summary>
/// <c>laptop-diff eval --spec S --weights W [--conditioner C] [--teacher-spec TS --teacher-weights TW [--teacher-conditioner TC]]
/// [--classifier F] [--mnist F] [--samples-per-class 50] [--guidance 3] [--steps 25] [--seed 0] [--mse-samples 500] [--grid PNG] [--json]</c>.
/// </summary>
public static class EvalCommand
{
    private static readonly DigitsModelOptions Model = new();
    private static readonly Eval.PipelineEvalOptions Pipeline = new();
    private static readonly Option<FileInfo?> TeacherSpecOption = new("--teacher-spec") { Description = "The teacher's spec, for the output MSE to the teacher" };
    private static readonly Option<FileInfo?> TeacherWeightsOption = new("--teacher-weights") { Description = "The teacher's weights" };
    private static readonly Option<FileInfo?> TeacherConditionerOption = new("--teacher-conditioner") { Description = "The teacher's conditioner (default: beside its weights)" };
    private static readonly Option<FileInfo> ClassifierOption = new("--classifier") { Description = "The digit classifier", DefaultValueFactory = _ => new FileInfo(Path.Combine("models", "digits", "classifier.safetensors")) };
    private static readonly Option<FileInfo> MnistOption = new("--mnist") { Description = "The MNIST file (its held-out split is the reference)", DefaultValueFactory = _ => new FileInfo(Path.Combine("models", "digits", "mnist.safetensors")) };
    private static readonly Option<int> SamplesPerClassOption = new("--samples-per-class") { Description = "Generated samples per class", DefaultValueFactory = _ => 50 };
    private static readonly Option<int> MseSamplesOption = new("--mse-samples") { Description = "Held-out noised digits for the MSE to the teacher", DefaultValueFactory = _ => 500 };
    private static readonly Option<FileInfo?> GridOption = new("--grid") { Description = "Also write the first 8 samples per class as a grid PNG" };
    private static readonly JsonOption JsonOption = CommonOptions.Json("spec, params, samples, class_alignment, frechet_distance, teacher_mse (value, low, high), class_accuracy, sampling_ms_per_sample");

    private const string Details = """
        With --model DIR (a pipeline folder): one image per prompt (--prompt/--prompts, batches of --batch,
        default 4, batch b seeded seed + its first prompt's index), scored by --scorer with --metric; with
        --unet-spec/--unet-weights the student is evaluated in place of the folder's U-Net and the folder's
        own U-Net is the teacher: the image MSE to the teacher's images from the same noise. Reports the
        mean score and MSE with 95% bootstrap intervals, the latency per image, and --grid (the first 16
        images with their prompts). Guidance defaults to 7.5 there.

        For a digits model (--spec, --weights):
        Class alignment (the classifier's accuracy on samples generated per class), the Frechet distance
        of classifier features (generated digits against the 1,000 held-out ones) and the output MSE to
        the teacher on seeded noised held-out digits, each with a 95% bootstrap interval over the samples
        (for the Frechet distance shifted by the bootstrap's bias estimate, since resampling with repeats
        raises it), and the sampling time per sample.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("eval", "Class alignment, Frechet distance of classifier features and output MSE to a teacher, with 95% bootstrap intervals", Details);
        Model.AddTo(command);
        Model.Spec.Required = false;
        Model.Weights.Required = false;
        Pipeline.AddTo(command);
        foreach (var option in new Option[] { TeacherSpecOption, TeacherWeightsOption, TeacherConditionerOption, ClassifierOption, MnistOption, SamplesPerClassOption, MseSamplesOption, GridOption, JsonOption })
            command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            if (Pipeline.Given(parse))
                return Pipeline.Run(context, parse, parse.GetValue(Model.Steps),
                    parse.GetResult(Model.Guidance) is { Implicit: false } ? parse.GetValue(Model.Guidance) : null, parse.GetValue(Model.Seed),
                    parse.GetResult(Model.Batch) is { Implicit: false } ? parse.GetValue(Model.Batch) : null, parse.GetValue(GridOption)?.FullName, parse.GetValue(JsonOption), Model.Device.Read(parse));
            if (parse.GetValue(Model.Spec) is null || parse.GetValue(Model.Weights) is null)
                throw new UsageException("eval needs --spec and --weights (a digits model), or --model DIR (a pipeline folder)");
            var options = new DigitsEvaluationOptions
            {
                SamplesPerClass = parse.GetValue(SamplesPerClassOption), GuidanceScale = parse.GetValue(Model.Guidance), Steps = parse.GetValue(Model.Steps),
                Seed = parse.GetValue(Model.Seed), Batch = parse.GetValue(Model.Batch), Schedule = Model.ParseSchedule(parse), MseSamples = parse.GetValue(MseSamplesOption),
            };
            OptionValues.Checked(() => { options.Validate(); return options; });
            var teacherSpec = parse.GetValue(TeacherSpecOption);
            var teacherWeights = parse.GetValue(TeacherWeightsOption);
            if ((teacherSpec is null) != (teacherWeights is null)) throw new UsageException("--teacher-spec and --teacher-weights go together");
            bool json = parse.GetValue(JsonOption);
            var grid = parse.GetValue(GridOption)?.FullName;

            using var classifier = DigitClassifier.Load(parse.GetValue(ClassifierOption)!.FullName);
            using var heldOut = MnistDigits.Load(parse.GetValue(MnistOption)!.FullName, MnistSplit.HeldOut);
            var (model, conditioner) = DigitsModelOptions.LoadModel(parse.GetValue(Model.Spec)!.FullName, parse.GetValue(Model.Weights)!.FullName, parse.GetValue(Model.Conditioner)?.FullName, Model.Device.Read(parse));
            using var _ = model;
            using var __ = conditioner;
            (Runtime.UNet2DCondition Model, ClassConditioner Conditioner)? teacher = teacherSpec is null ? null
                : DigitsModelOptions.LoadModel(teacherSpec.FullName, teacherWeights!.FullName, parse.GetValue(TeacherConditionerOption)?.FullName, Model.Device.Read(parse));
            try
            {
                using var evaluator = new DigitsEvaluator(classifier, heldOut, options);
                int total = options.SamplesPerClass * MnistDigits.ClassCount;
                var report = evaluator.Evaluate(DdimSampler.Predictor(model), conditioner,
                    teacher is { } t ? DdimSampler.Predictor(t.Model) : null, teacher?.Conditioner,
                    new SynchronousProgress<int>(done => { if (!json) context.Error.WriteLine($"[eval] sampled {done}/{total}"); }),
                    (samples, labels) =>
                    {
                        if (grid != null)
                            SampleGrid.WritePng(grid, samples, labels, MnistDigits.ClassCount, Math.Min(8, options.SamplesPerClass),
                                $"{model.Layout.Spec.Name}: DDIM {options.Steps}, guidance {options.GuidanceScale}");
                    });
                Print(context, json, model, report, options);
                return ExitCodes.Ok;
            }
            finally
            {
                teacher?.Model.Dispose();
                teacher?.Conditioner.Dispose();
            }
        }));
        return command;
    }

    private static void Print(CliContext context, bool json, Runtime.UNet2DCondition model, DigitsEvaluationReport r, DigitsEvaluationOptions o)
    {
        static object Ci(Estimate e) => new { value = e.Value, low = e.Low, high = e.High };
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new
            {
                spec = model.Layout.Spec.Name,
                @params = model.Layout.TotalParamCount,
                samples = r.Samples,
                guidance = o.GuidanceScale,
                steps = o.Steps,
                seed = o.Seed,
                class_alignment = Ci(r.ClassAlignment),
                class_accuracy = r.ClassAccuracy,
                frechet_distance = Ci(r.FrechetDistance),
                teacher_mse = r.TeacherMse is { } m ? Ci(m) : null,
                sampling_ms_per_sample = r.SamplingMsPerSample,
            }));
            return;
        }
        static string Fmt(Estimate e, string f) => $"{e.Value.ToString(f)} [{e.Low.ToString(f)}, {e.High.ToString(f)}]";
        context.Out.WriteLine($"{model.Layout.Spec.Name}: {r.Samples} samples, DDIM {o.Steps} steps, guidance {o.GuidanceScale}, seed {o.Seed} (95% bootstrap intervals)");
        context.Out.WriteLine($"  class alignment   {Fmt(r.ClassAlignment, "P1")}");
        context.Out.WriteLine($"  per class         {string.Join(" ", r.ClassAccuracy.Select((a, c) => $"{c}:{a:P0}"))}");
        context.Out.WriteLine($"  Frechet distance  {Fmt(r.FrechetDistance, "F3")}");
        if (r.TeacherMse is { } mse) context.Out.WriteLine($"  MSE to teacher    {Fmt(mse, "F5")}");
        context.Out.WriteLine($"  sampling          {r.SamplingMsPerSample:F0} ms per sample");
    }
}
