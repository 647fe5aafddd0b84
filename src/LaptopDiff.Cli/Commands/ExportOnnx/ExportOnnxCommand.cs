using System.CommandLine;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Onnx;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;

namespace LaptopDiff.Cli.Commands.ExportOnnx;

/// <summary>
/// <c>laptop-diff export-onnx --spec S --weights W | --model DIR [--student-spec S --student-weights W] --output PATH
/// [--opset 17] [--fp16] [--json]</c>: a U-Net (any spec, pruned or not) as an ONNX file, or a pipeline folder as an ONNX
/// pipeline folder.
/// </summary>
public static class ExportOnnxCommand
{
    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec("The U-Net's spec (*.unet.yaml, a pruned spec resolves its base; or a diffusers config.json)", required: false);
    private static readonly Option<FileInfo> WeightsOption = new("--weights") { Description = "Its weights (.safetensors with exactly the model's tensors: a pruned model's surviving teacher keys)" };
    private static readonly Option<DirectoryInfo> ModelOption = new("--model") { Description = "A diffusers pipeline folder to export whole (instead of --spec)" };
    private static readonly Option<string?> VariantOption = new("--variant") { Description = "With --model: weight file variant, e.g. fp16 (default: the plain files)" };
    private static readonly Option<FileInfo> StudentSpecOption = new("--student-spec") { Description = "With --model: a pruned spec of the pipeline's U-Net that replaces it" };
    private static readonly Option<FileInfo> StudentWeightsOption = new("--student-weights") { Description = "With --student-spec: the student's weights" };
    private static readonly Option<string> OutputOption = CommonOptions.Output<string>("The .onnx file (with --spec) or the folder (with --model) to write");
    private static readonly Option<int> OpsetOption = new("--opset")
    {
        Description = $"ONNX opset to write, {OnnxOpsets.Default} by default; at least what the graph needs, at most {OnnxOpsets.Newest}",
        DefaultValueFactory = _ => OnnxOpsets.Default,
    };
    private static readonly Option<bool> Fp16Option = new("--fp16") { Description = "Store weights and compute in float16 (float inputs and outputs too; the timestep stays float32)" };
    private static readonly JsonOption JsonOption = CommonOptions.Json("output and models, each written model's component, path, data_path, opset, required_opset, precision, params, weight_bytes");

    private const string Details = """
        Builds each ONNX graph from the model's structure (the U-Net's layout, CLIP's and the VAE's
        configs) node by node, no tracing, and reads the weights one tensor at a time while writing.

        U-Net inputs (diffusers' ONNX pipelines, as Optimum exports them): sample [batch, in, height,
        width], timestep float32 [1 or batch], encoder_hidden_states [batch, sequence_length, dim], plus
        text_embeds and time_ids for SDXL-style specs; output out_sample. Batch, height, width and
        sequence length are symbolic, so one file serves every batch and resolution. A pruned model is
        exported pruned; the file's metadata lists the removed units.

        With --model, OUTPUT becomes the ONNX pipeline folder those pipelines read: unet/model.onnx,
        text_encoder/model.onnx (and text_encoder_2/ for SDXL; outputs last_hidden_state,
        pooler_output or text_embeds, and hidden_states.0..L), vae_decoder/model.onnx (latent_sample,
        raw latents: the pipeline divides by scaling_factor first -> sample), vae_encoder/model.onnx
        (sample -> latent_parameters, the distribution's mean and log-variance), each with its
        config.json, plus model_index.json, scheduler/ and the tokenizers. An existing OUTPUT folder is
        replaced only when it is such an export.

        Opsets: 17 by default (LayerNormalization; GroupNorm is written as InstanceNormalization over
        channel groups, attention as MatMul and Softmax). An opset below what the graph needs (17 with
        attention, 13 without) is exit 2 naming the operator, with nothing written. Weights over 2 GB
        go to external data, FILE.onnx.data beside FILE.onnx.

        No --device: the export runs no model, it writes the graph and copies the weights from the files
        on the CPU, and the same file serves every device (the ONNX Runtime session picks where it runs).
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("export-onnx", "Write a U-Net (any spec, pruned or not) or a whole pipeline folder as ONNX, for ONNX Runtime", Details)
        {
            SpecOption, WeightsOption, ModelOption, VariantOption, StudentSpecOption, StudentWeightsOption, OutputOption, OpsetOption, Fp16Option, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var spec = parse.GetValue(SpecOption);
            var weights = parse.GetValue(WeightsOption);
            var model = parse.GetValue(ModelOption);
            var studentSpec = parse.GetValue(StudentSpecOption);
            var studentWeights = parse.GetValue(StudentWeightsOption);
            if ((spec is null) == (model is null)) throw new UsageException("give either --spec (with --weights) or --model");
            if (spec is not null && weights is null) throw new UsageException("--spec needs --weights");
            if (model is null && (studentSpec ?? (object?)studentWeights ?? parse.GetValue(VariantOption)) is not null)
                throw new UsageException("--variant, --student-spec and --student-weights go with --model");
            if (model is not null && weights is not null) throw new UsageException("--weights goes with --spec; a student's weights are --student-weights");
            if ((studentSpec is null) != (studentWeights is null)) throw new UsageException("--student-spec and --student-weights go together");

            var options = new OnnxExportOptions
            {
                Opset = parse.GetValue(OpsetOption),
                Precision = parse.GetValue(Fp16Option) ? OnnxPrecision.Float16 : OnnxPrecision.Float32,
            };
            var output = Path.GetFullPath(parse.GetValue(OutputOption)!);
            IReadOnlyList<OnnxComponentReport> reports;
            if (spec is not null)
            {
                var layout = SpecFiles.LoadLayout(spec.FullName);
                reports = [new OnnxComponentReport("unet", OnnxExporter.ExportUNet(layout, SafetensorsSet.Single(weights!.FullName), output, options))];
            }
            else
            {
                var folder = PipelineFolder.Open(model!.FullName, parse.GetValue(VariantOption));
                var student = studentSpec is null ? null
                    : new OnnxStudentUNet(SpecFiles.LoadLayout(studentSpec.FullName), SafetensorsSet.Single(studentWeights!.FullName));
                reports = OnnxPipelineExporter.Export(folder, output, options, student);
            }
            Print(context, output, reports, parse.GetValue(JsonOption));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void Print(CliContext context, string output, IReadOnlyList<OnnxComponentReport> reports, bool json)
    {
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new { output, models = reports.Select(r => new
            {
                component = r.Component, path = r.Report.Path, data_path = r.Report.DataPath, opset = r.Report.Opset,
                required_opset = r.Report.RequiredOpset, precision = r.Report.Precision == OnnxPrecision.Float16 ? "float16" : "float32",
                @params = r.Report.ParamCount, weight_bytes = r.Report.WeightBytes,
            }) }, JsonOptions.Indented));
            return;
        }
        foreach (var (component, report) in reports)
        {
            var data = report.DataPath is null ? "" : $" + {Path.GetFileName(report.DataPath)}";
            var precision = report.Precision == OnnxPrecision.Float16 ? "float16" : "float32";
            context.Out.WriteLine($"wrote {report.Path}{data}: {component}, {report.ParamCount:N0} params ({precision}, {report.WeightBytes:N0} bytes), opset {report.Opset} (needs {report.RequiredOpset})");
        }
    }
}
