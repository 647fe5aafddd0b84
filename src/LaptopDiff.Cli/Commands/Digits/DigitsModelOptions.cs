using System.CommandLine;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Cli.Commands.Digits;

/// <summary>The options <c>sample</c> and <c>eval</c> share: the model, its conditioner, the sampler and the schedule.</summary>
internal sealed class DigitsModelOptions
{
    public readonly Option<FileInfo> Spec = CommonOptions.Spec("The model's *.unet.yaml (a digits model: 1 channel, 32x32)");
    public readonly Option<FileInfo> Weights = new("--weights") { Description = "The model's weights (.safetensors)", Required = true };
    public readonly Option<FileInfo?> Conditioner = new("--conditioner") { Description = "The class conditioner (default: WEIGHTS with .conditioner.safetensors, as train writes it)" };
    public readonly Option<double> Guidance = new("--guidance") { Description = "Classifier-free guidance scale (1 = conditional only)", DefaultValueFactory = _ => 3.0 };
    public readonly Option<int> Steps = new("--steps") { Description = "DDIM steps (eta 0)", DefaultValueFactory = _ => 25 };
    public readonly Option<long> Seed = CommonOptions.Seed("the starting noise (and of the evaluation's draws)");
    public readonly Option<int> Batch = new("--batch") { Description = "Samples per sampler batch", DefaultValueFactory = _ => 50 };
    public readonly Option<string> Schedule = new("--schedule") { Description = "The training noise schedule: linear or scaled_linear", DefaultValueFactory = _ => "linear" };
    public readonly Option<double> BetaStart = new("--beta-start") { Description = "First beta of the schedule", DefaultValueFactory = _ => DigitsModel.Schedule.BetaStart };
    public readonly Option<double> BetaEnd = new("--beta-end") { Description = "Last beta of the schedule", DefaultValueFactory = _ => DigitsModel.Schedule.BetaEnd };
    public readonly ThreadsOption Threads = CommonOptions.Threads();
    public readonly DeviceOption Device = CommonOptions.Device("the models, their conditioners and the sampler");

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Spec, Weights, Conditioner, Guidance, Steps, Seed, Batch, Schedule, BetaStart, BetaEnd, Threads, Device })
            command.Options.Add(option);
    }

    public NoiseSchedule ParseSchedule(ParseResult parse) => OptionValues.Checked(() => new NoiseSchedule
    {
        Kind = NoiseSchedule.ParseKind(parse.GetValue(Schedule)!), BetaStart = parse.GetValue(BetaStart), BetaEnd = parse.GetValue(BetaEnd),
    }.Validate());

    /// <summary>
    /// Loads a digits U-Net (strict keys) and its conditioner onto <paramref name="device"/>; the conditioner's width must be the
    /// spec's cross_attention_dim.
    /// </summary>
    public static (UNet2DCondition Model, ClassConditioner Conditioner) LoadModel(string specPath, string weightsPath, string? conditionerPath, TorchSharp.torch.Device device)
    {
        var layout = SpecFiles.LoadLayout(specPath);
        if (layout.Spec.InChannels != 1 || layout.Spec.OutChannels != 1 || layout.Spec.SampleSize != MnistDigits.ModelSide)
            throw new Runtime.Inputs.InputException($"{layout.Spec.Name} is not a digits model (1 channel in and out at {MnistDigits.ModelSide}x{MnistDigits.ModelSide}); see models/digits.unet.yaml");
        WeightLoader.CheckAgainstKeys(layout.LiveKeys, SafetensorsFile.ReadHeader(weightsPath)).ThrowIfMismatched();
        var conditioner = ClassConditioner.Load(conditionerPath ?? TeacherTraining.ConditionerPathFor(weightsPath));
        if (conditioner.Dim != layout.Spec.CrossAttentionDim || conditioner.ClassCount != MnistDigits.ClassCount)
        {
            conditioner.Dispose();
            throw new Runtime.Inputs.InputException($"the conditioner gives {conditioner.ClassCount} classes of width {conditioner.Dim}; {layout.Spec.Name} needs {MnistDigits.ClassCount} classes of width {layout.Spec.CrossAttentionDim}");
        }
        var model = new UNet2DCondition(layout);
        WeightLoader.Load(model, weightsPath, strict: true);
        model.MoveTo(device);
        ModuleDevice.MoveTo(conditioner, device);
        model.eval();
        conditioner.eval();
        return (model, conditioner);
    }
}
