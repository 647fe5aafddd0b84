using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Onnx;
using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Tests.Weights;
using LaptopDiff.Spec;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Onnx;

/// <summary>
/// Any layout exports: pruned students (each granularity), every batch and resolution through one file, external
/// data, opsets from what the graph needs to the newest written, float16.
/// </summary>
public sealed class UNetOnnxExportTests(ITestOutputHelper output)
{
    public static TheoryData<string, PruneGranularity, string[]> Students => new()
    {
        { TinyUNets.Sd15, PruneGranularity.Transformer, ["down_blocks.0.resnets.1", "down_blocks.0.attentions.1", "mid_block.attentions.0", "up_blocks.0.resnets.1", "up_blocks.1.resnets.2"] },
        { TinyUNets.Sdxl, PruneGranularity.TransformerBlock, ["down_blocks.0.resnets.1", "down_blocks.2.attentions.1.transformer_blocks.0", "mid_block.attentions.0.transformer_blocks.1",
            "up_blocks.0.attentions.2.transformer_blocks.0", "up_blocks.0.attentions.2.transformer_blocks.1", "up_blocks.2.resnets.1"] },
    };

    [Theory]
    [MemberData(nameof(Students))]
    public void Pruned_student_runs_as_the_masked_teacher(string fixture, PruneGranularity granularity, string[] removed)
    {
        using var temp = new TempFolder();
        var path = temp.File("student.onnx");
        var layout = TinyUNets.Layout(fixture, granularity, removed);
        var report = OnnxTestKit.Export(layout, fixture, path);
        Assert.Equal(layout.TotalParamCount, report.ParamCount);
        Assert.Empty(OnnxModelCheck.Check(path));

        using var teacher = TinyUNets.Load(fixture, granularity);
        var inputs = TinyUNets.Inputs(fixture);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var masked = teacher.Forward(inputs, teacher.Plan.Mask(removed)).Sample;
        using var onnx = OnnxTestKit.Run(path, inputs);
        var (rel, max) = Close.Errors(onnx.Sample, masked);
        output.WriteLine($"{fixture} without {removed.Length} units: ONNX Runtime vs TorchSharp masked teacher rel L2 {rel:E2}, max abs {max:E2}");
        Assert.True(rel <= OnnxTestKit.RelL2, $"rel L2 {rel:E3}");
        var (fromFull, _) = Close.Errors(onnx.Sample, teacher.Forward(inputs).Sample);
        Assert.True(fromFull > 1e-3, $"the student's output is the teacher's ({fromFull:E2}): the removed units were exported");
    }

    [Theory]
    [InlineData(TinyUNets.Sd15)]
    [InlineData(TinyUNets.Sdxl)]
    public void One_file_serves_every_batch_and_resolution(string fixture)
    {
        using var temp = new TempFolder();
        var path = temp.File("unet.onnx");
        OnnxTestKit.Export(TinyUNets.Layout(fixture), fixture, path);
        using var model = TinyUNets.Load(fixture);
        using var unet = OnnxUNet.Open(path, new OnnxSessionOptions { Threads = 1 });
        using var _ = no_grad();
        var spec = model.Layout.Spec;
        // sizes whose halvings become odd (12 -> 6 -> 3, 20 -> 10 -> 5), where the upsampler takes the skip's size
        foreach (var (batch, height, width, tokens) in new[] { (1, 16, 16, 7), (3, 12, 20, 5) })
        {
            using var scope = NewDisposeScope();
            var inputs = RandomInputs(spec, batch, height, width, tokens, singleTimestep: batch == 3);
            var (rel, max) = Close.Errors(unet.Forward(inputs).Sample, model.Forward(inputs).Sample);
            output.WriteLine($"{fixture} batch {batch}, {height}x{width}, {tokens} tokens: ONNX Runtime vs TorchSharp rel L2 {rel:E2}, max abs {max:E2}");
            Assert.True(rel <= 1e-5, $"batch {batch} {height}x{width}: rel L2 {rel:E3}");
        }
    }

    [Fact]
    public void Weights_over_the_threshold_go_to_external_data_and_run_the_same()
    {
        using var temp = new TempFolder();
        var inline = temp.File("inline.onnx");
        var external = temp.File("external.onnx");
        var layout = TinyUNets.Layout(TinyUNets.Sd15);
        var inlineReport = OnnxTestKit.Export(layout, TinyUNets.Sd15, inline);
        var report = OnnxTestKit.Export(layout, TinyUNets.Sd15, external, new OnnxExportOptions { ExternalDataThresholdBytes = 1 << 20 });

        Assert.Null(inlineReport.DataPath);
        Assert.Equal(external + ".data", report.DataPath);
        Assert.Equal(4 * layout.TotalParamCount, report.WeightBytes);
        Assert.True(new FileInfo(report.DataPath!).Length >= report.WeightBytes - 64 * 1024, "the data file holds the weights");
        // the graph and the tensors under 1 KiB (biases, norms) stay in the model file
        Assert.True(new FileInfo(external).Length < report.WeightBytes / 10, $"the model file kept the weights ({new FileInfo(external).Length} bytes)");
        Assert.Empty(OnnxModelCheck.Check(external));

        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var inputs = TinyUNets.Inputs(TinyUNets.Sd15);
        using var a = OnnxTestKit.Run(inline, inputs);
        using var b = OnnxTestKit.Run(external, inputs);
        Assert.Equal(0.0, Close.Errors(a.Sample, b.Sample).MaxAbs);                 // the same weights, bit for bit

        // exported again under the threshold: the stale data file goes
        OnnxTestKit.Export(layout, TinyUNets.Sd15, external);
        Assert.False(File.Exists(external + ".data"));
    }

    [Fact]
    public void An_opset_below_what_the_graph_needs_is_refused_naming_the_operator_and_nothing_is_written()
    {
        using var temp = new TempFolder();
        var path = temp.File("unet.onnx");
        var e = Assert.Throws<InputException>(() => OnnxTestKit.Export(TinyUNets.Layout(TinyUNets.Sd15), TinyUNets.Sd15, path, new OnnxExportOptions { Opset = 16 }));
        Assert.Contains("opset 16", e.Message);
        Assert.Contains("LayerNormalization needs opset 17", e.Message);
        Assert.Equal([nameof(OnnxExportOptions.Opset)], e.Settings);
        Assert.Empty(Directory.GetFiles(temp.Path));

        var tooNew = Assert.Throws<InputException>(() => OnnxTestKit.Export(TinyUNets.Layout(TinyUNets.Sd15), TinyUNets.Sd15, path, new OnnxExportOptions { Opset = OnnxOpsets.Newest + 1 }));
        Assert.Contains($"up to {OnnxOpsets.Newest}", tooNew.Message);
        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void A_unet_without_attention_needs_opset_13_and_the_newest_opset_runs_too()
    {
        var plain = LayoutBuilder.BuildOrThrow(SpecParser.Parse("plain.unet.yaml", """
            name: Plain
            sample_size: 8
            norm: { groups: 4 }
            down:
              - { type: plain, channels: 8, layers: 1 }
              - { type: plain, channels: 16, layers: 1 }
            mid: { type: resnet }
            up:
              - { type: plain, channels: 16, layers: 2 }
              - { type: plain, channels: 8, layers: 2 }
            """).GetSpecOrThrow(), "plain.unet.yaml");
        using var model = new UNet2DCondition(plain);
        using var temp = new TempFolder();
        var at13 = temp.File("plain13.onnx");
        var report = OnnxExporter.ExportUNet(plain, new ModuleWeightSource(model), at13, new OnnxExportOptions { Opset = 13 });
        Assert.Equal(13, report.RequiredOpset);
        Assert.Throws<InputException>(() => OnnxExporter.ExportUNet(plain, new ModuleWeightSource(model), temp.File("plain12.onnx"), new OnnxExportOptions { Opset = 12 }));

        var newest = temp.File("sd15-newest.onnx");
        OnnxTestKit.Export(TinyUNets.Layout(TinyUNets.Sd15), TinyUNets.Sd15, newest, new OnnxExportOptions { Opset = OnnxOpsets.Newest });
        Assert.Empty(OnnxModelCheck.Check(at13));
        Assert.Empty(OnnxModelCheck.Check(newest));

        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var inputs = RandomInputs(plain.Spec, 2, 8, 8, 3, singleTimestep: false);
        Assert.True(Close.Errors(OnnxTestKit.Run(at13, inputs).Sample, model.Forward(inputs).Sample).RelL2 <= 1e-5);
        var io = TinyUNets.Io(TinyUNets.Sd15);
        Assert.True(Close.Errors(OnnxTestKit.Run(newest, TinyUNets.Inputs(TinyUNets.Sd15)).Sample, io["out"]).RelL2 <= OnnxTestKit.RelL2);
    }

    [Theory]
    [InlineData(TinyUNets.Sd15)]
    [InlineData(TinyUNets.Sdxl)]
    public void Float16_export_stores_half_the_bytes_and_stays_near_the_reference(string fixture)
    {
        using var temp = new TempFolder();
        var path = temp.File("fp16.onnx");
        var layout = TinyUNets.Layout(fixture);
        var report = OnnxTestKit.Export(layout, fixture, path, new OnnxExportOptions { Precision = OnnxPrecision.Float16 });
        Assert.Equal(2 * layout.TotalParamCount, report.WeightBytes);
        Assert.Empty(OnnxModelCheck.Check(path));

        using var unet = OnnxUNet.Open(path, new OnnxSessionOptions { Threads = 1 });
        Assert.Equal(ScalarType.Float16, unet.ComputeType);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var result = unet.Forward(TinyUNets.Inputs(fixture)).Sample;
        Assert.Equal(ScalarType.Float32, result.dtype);
        var (rel, max) = Close.Errors(result, TinyUNets.Io(fixture)["out"]);
        output.WriteLine($"{fixture} float16 export in ONNX Runtime vs diffusers float64 out: rel L2 {rel:E2}, max abs {max:E2}");
        // float16 keeps ~3 significant digits: errors of 1e-3..1e-2, where a structural mistake gives 1e-1 and more
        Assert.True(rel <= 2e-2, $"rel L2 {rel:E3}");
    }

    private static UNetInputs RandomInputs(UNetSpec spec, int batch, int height, int width, int tokens, bool singleTimestep)
    {
        var generator = new TorchSharp.torch.Generator(1234);
        var sample = randn(new long[] { batch, spec.InChannels, height, width }, generator: generator);
        var timestep = singleTimestep ? tensor(new long[] { 611 }) : randint(0, 1000, new long[] { batch }, generator: generator);
        var context = randn(new long[] { batch, tokens, Math.Max(spec.CrossAttentionDim, 1) }, generator: generator);
        Tensor? textEmbeds = null, timeIds = null;
        if (spec.AdditionEmbedding is { } add)
        {
            textEmbeds = randn(new long[] { batch, add.TextEmbedDim }, generator: generator);
            timeIds = tensor(new float[] { height * 8, width * 8, 0, 0, height * 8, width * 8 }).repeat(batch, 1);
        }
        return new UNetInputs(sample, timestep, context, textEmbeds, timeIds);
    }
}
