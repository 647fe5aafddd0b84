using System.CommandLine;
using System.Diagnostics;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Cli.Commands.Forward;

/// <summary><c>laptop-diff forward --spec S --weights W --inputs IN --output OUT</c>: one forward pass.</summary>
public static class ForwardCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec();
    private static readonly Option<FileInfo> WeightsOption = new("--weights") { Description = "Weights (.safetensors, diffusers key names)", Required = true };
    private static readonly Option<FileInfo> InputsOption = new("--inputs") { Description = "sample, timestep, encoder_hidden_states [, text_embeds, time_ids] (.safetensors)", Required = true };
    private static readonly Option<FileInfo> OutputOption = CommonOptions.Output<FileInfo>("Where to write tensor 'out' (float32 .safetensors)");
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly DeviceOption DeviceOption = CommonOptions.Device("the model and its inputs");

    private const string Details = """
        One forward pass in inference mode. INPUTS holds sample, timestep and encoder_hidden_states (plus
        text_embeds and time_ids for SDXL-style specs). The weights' keys are checked against the spec
        before the model is allocated. OUTPUT gets one tensor, 'out' (float32): the predicted noise.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("forward", "Run one U-Net forward pass and write its prediction", Details)
        {
            SpecOption, WeightsOption, InputsOption, OutputOption, ThreadsOption, DeviceOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var weights = parse.GetValue(WeightsOption)!.FullName;
            var output = parse.GetValue(OutputOption)!.FullName;
            var layout = SpecFiles.LoadLayout(parse.GetValue(SpecOption)!.FullName);
            // Check keys from the header before allocating a model that may be gigabytes.
            WeightLoader.CheckAgainstKeys(layout.LiveKeys, SafetensorsFile.ReadHeader(weights)).ThrowIfMismatched();

            using var scope = NewDisposeScope();
            var device = DeviceOption.Read(parse);
            var inputs = UNetInputReader.Read(parse.GetValue(InputsOption)!.FullName, layout).To(device);
            using var model = new UNet2DCondition(layout);
            WeightLoader.Load(model, weights, strict: true);
            model.MoveTo(device);
            model.eval();
            var watch = Stopwatch.StartNew();
            Tensor result;
            using (torch.inference_mode()) result = model.forward(inputs).Sample;
            long elapsedMs = watch.ElapsedMilliseconds;
            SafetensorsFile.Save(output, new[] { KeyValuePair.Create("out", result.to_type(ScalarType.Float32).contiguous()) });
            context.Out.WriteLine($"wrote {output}: out [{string.Join(",", result.shape)}] ({elapsedMs} ms forward)");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
