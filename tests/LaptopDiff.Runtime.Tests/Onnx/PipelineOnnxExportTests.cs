using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Onnx;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Tests.Clip;
using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Tests.Pipelines;
using LaptopDiff.Runtime.Tests.Vae;
using LaptopDiff.Runtime.Tests.Weights;
using LaptopDiff.Runtime.Vae;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Onnx;

/// <summary>
/// A pipeline folder exports to the ONNX pipeline layout (Optimum's), and each exported model computes what its
/// TorchSharp module computes: the text encoders, the VAE's halves, the U-Net.
/// </summary>
public sealed class PipelineOnnxExportTests(ITestOutputHelper output)
{
    private const double ComponentRelL2 = 1e-5;

    [Theory]
    [InlineData(PipelineFixtures.Sd15)]
    [InlineData(PipelineFixtures.Sdxl)]
    public void Pipeline_exports_to_the_onnx_layout_and_each_model_equals_its_module(string pipeline)
    {
        using var temp = new TempFolder();
        var target = temp.File("onnx");
        var folder = PipelineFolder.Open(PipelineFixtures.Folder(pipeline));
        var reports = OnnxPipelineExporter.Export(folder, target);

        var encoders = pipeline == PipelineFixtures.Sdxl ? new[] { "text_encoder", "text_encoder_2" } : ["text_encoder"];
        Assert.Equal(["unet", .. encoders, "vae_decoder", "vae_encoder"], reports.Select(r => r.Component));
        foreach (var (component, report) in reports)
        {
            Assert.Equal(Path.Combine(target, component, "model.onnx"), report.Path);
            Assert.True(File.Exists(Path.Combine(target, component, "config.json")), $"{component}/config.json");
            Assert.Empty(OnnxModelCheck.Check(report.Path));
        }
        Assert.True(File.Exists(Path.Combine(target, "model_index.json")));
        Assert.True(File.Exists(Path.Combine(target, "scheduler", "scheduler_config.json")));
        Assert.True(File.Exists(Path.Combine(target, "tokenizer", "merges.txt")));
        Assert.Equal(File.ReadAllText(Path.Combine(folder.Directory, "vae", "config.json")), File.ReadAllText(Path.Combine(target, "vae_decoder", "config.json")));
        Assert.Empty(Directory.GetDirectories(temp.Path).Where(d => d != target));   // no staging folder left

        var reference = ClipFixtures.Tensors($"{pipeline}.io.safetensors");
        using var _ = no_grad();
        foreach (var encoder in encoders)
            CheckTextEncoder(folder[encoder], Path.Combine(target, encoder, "model.onnx"), reference[encoder == "text_encoder" ? "te.input_ids" : "te2.input_ids"]);
        CheckVae(pipeline, target);
        CheckUNet(folder, Path.Combine(target, "unet", "model.onnx"));
    }

    [Fact]
    public void A_student_replaces_the_pipelines_unet_and_a_foreign_structure_is_refused()
    {
        using var temp = new TempFolder();
        var folder = PipelineFolder.Open(PipelineFixtures.Folder(PipelineFixtures.Sd15));
        var teacher = folder.BuildUNetLayout();
        var removed = teacher.PrunableUnits.Where(u => u.Kind == Spec.ComponentKind.Resnet).Take(2).Select(u => u.Id).ToArray();
        var layout = teacher.WithRemoved(removed);
        // the student's file holds exactly its surviving tensors
        var header = SafetensorsFile.ReadHeader(folder.UNet.Weights!.Require().Path);
        var live = layout.LiveKeys.Select(k => k.Name).ToHashSet();
        var studentWeights = temp.File("student.safetensors");
        SafetensorsFile.SaveSubset(studentWeights, header, header.Entries.Where(e => live.Contains(e.Name)).ToList());

        var target = temp.File("onnx");
        var reports = OnnxPipelineExporter.Export(folder, target, student: new OnnxStudentUNet(layout, SafetensorsSet.Single(studentWeights)));
        Assert.Equal(layout.TotalParamCount, reports.Single(r => r.Component == "unet").Report.ParamCount);

        using var model = folder.LoadUNet();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var inputs = UNetInputsFor(model.Layout.Spec, 2);
        using var onnx = OnnxUNet.Open(Path.Combine(target, "unet", "model.onnx"));
        var (rel, _) = Close.Errors(onnx.Forward(inputs).Sample, model.Forward(inputs, model.Plan.Mask(removed)).Sample);
        Assert.True(rel <= ComponentRelL2, $"student unet rel L2 {rel:E3}");

        var foreign = TinyUNets.Layout(TinyUNets.Sdxl);
        var e = Assert.Throws<PipelineException>(() => OnnxPipelineExporter.Export(folder, temp.File("foreign"),
            student: new OnnxStudentUNet(foreign, OnnxTestKit.FixtureWeights(TinyUNets.Sdxl))));
        Assert.Contains("is not a pruning of the pipeline's U-Net", e.Message);
        Assert.False(Directory.Exists(temp.File("foreign")));
    }

    [Fact]
    public void An_earlier_export_is_replaced_and_any_other_folder_is_left_alone()
    {
        using var temp = new TempFolder();
        var folder = PipelineFolder.Open(PipelineFixtures.Folder(PipelineFixtures.Sd15));
        var target = temp.File("onnx");
        OnnxPipelineExporter.Export(folder, target);
        var marker = Path.Combine(target, "stale.txt");
        File.WriteAllText(marker, "from an earlier export");
        OnnxPipelineExporter.Export(folder, target);
        Assert.False(File.Exists(marker));
        Assert.True(File.Exists(Path.Combine(target, "unet", "model.onnx")));

        var other = Directory.CreateDirectory(temp.File("photos")).FullName;
        File.WriteAllText(Path.Combine(other, "holiday.jpg"), "not a model");
        var e = Assert.Throws<InputException>(() => OnnxPipelineExporter.Export(folder, other));
        Assert.Contains("is not an ONNX pipeline export", e.Message);
        Assert.Equal(["holiday.jpg"], Directory.GetFileSystemEntries(other).Select(Path.GetFileName));
    }

    [Fact]
    public void An_opset_too_low_for_any_of_its_models_writes_nothing()
    {
        using var temp = new TempFolder();
        var folder = PipelineFolder.Open(PipelineFixtures.Folder(PipelineFixtures.Sd15));
        var e = Assert.Throws<InputException>(() => OnnxPipelineExporter.Export(folder, temp.File("onnx"), new OnnxExportOptions { Opset = 16 }));
        Assert.Contains("LayerNormalization needs opset 17", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    private void CheckTextEncoder(PipelineComponent encoder, string path, Tensor ids)
    {
        bool projection = encoder.Kind == Runtime.Pipelines.ComponentKind.TextEncoderWithProjection;
        using var model = ClipTextModel.Load(encoder.ConfigPath!, encoder.Weights!.Require().Path, projection);
        using var expected = model.forward(ids);
        using var session = OnnxSession.Open(path, new OnnxSessionOptions { Threads = 1 });
        int layers = model.Config.NumHiddenLayers;
        var names = projection ? new[] { "text_embeds", "last_hidden_state" } : ["last_hidden_state", "pooler_output"];
        Assert.Equal([.. names, .. Enumerable.Range(0, layers + 1).Select(i => $"hidden_states.{i}")], session.Outputs);

        using var scope = NewDisposeScope();
        var outputs = session.Run(new Dictionary<string, Tensor> { ["input_ids"] = ids }, [.. names, $"hidden_states.{layers - 1}"]);
        Compare($"{encoder.Name} last_hidden_state", outputs[Array.IndexOf(names, "last_hidden_state")], expected.LastHiddenState);
        Compare($"{encoder.Name} {names[projection ? 0 : 1]}", outputs[projection ? 0 : 1], projection ? expected.TextEmbeds! : expected.PooledOutput);
        Compare($"{encoder.Name} hidden_states.{layers - 1} (penultimate)", outputs[2], expected.HiddenStates[^2]);
    }

    private void CheckVae(string pipeline, string target)
    {
        using var vae = TinyVaes.Load(pipeline);
        var io = TinyVaes.Io(pipeline);
        using var scope = NewDisposeScope();
        using var decoder = OnnxSession.Open(Path.Combine(target, "vae_decoder", "model.onnx"), new OnnxSessionOptions { Threads = 1 });
        Compare("vae_decoder sample", decoder.Run(new Dictionary<string, Tensor> { ["latent_sample"] = io["vae.latents"] }, "sample")[0], vae.Decode(io["vae.latents"]));

        using var encoder = OnnxSession.Open(Path.Combine(target, "vae_encoder", "model.onnx"), new OnnxSessionOptions { Threads = 1 });
        var parameters = encoder.Run(new Dictionary<string, Tensor> { ["sample"] = io["vae.image"] }, "latent_parameters")[0];
        using var fromOnnx = new DiagonalGaussian(parameters);
        using var expected = vae.Encode(io["vae.image"]);
        Compare("vae_encoder mean", fromOnnx.Mean, expected.Mean);
        Compare("vae_encoder logvar", fromOnnx.LogVar, expected.LogVar);
    }

    private void CheckUNet(PipelineFolder folder, string path)
    {
        using var model = folder.LoadUNet();
        using var onnx = OnnxUNet.Open(path, new OnnxSessionOptions { Threads = 1 });
        using var scope = NewDisposeScope();
        var inputs = UNetInputsFor(model.Layout.Spec, 2);
        Compare("unet out_sample", onnx.Forward(inputs).Sample, model.Forward(inputs).Sample);
    }

    private void Compare(string what, Tensor actual, Tensor expected)
    {
        var (rel, max) = Close.Errors(actual, expected);
        output.WriteLine($"{what}: ONNX Runtime vs TorchSharp rel L2 {rel:E2}, max abs {max:E2}");
        Assert.True(rel <= ComponentRelL2, $"{what}: rel L2 {rel:E3}");
    }

    /// <summary>Seeded inputs at the spec's sample size: a guided batch (one timestep for both halves).</summary>
    private static UNetInputs UNetInputsFor(UNetSpec spec, int batch)
    {
        var generator = new TorchSharp.torch.Generator(7);
        int size = spec.SampleSize;
        Tensor? textEmbeds = null, timeIds = null;
        if (spec.AdditionEmbedding is { } add)
        {
            textEmbeds = randn(new long[] { batch, add.TextEmbedDim }, generator: generator);
            timeIds = tensor(new float[] { size * 8, size * 8, 0, 0, size * 8, size * 8 }).repeat(batch, 1);
        }
        return new UNetInputs(randn(new long[] { batch, spec.InChannels, size, size }, generator: generator), tensor(new[] { 501f }),
            randn(new long[] { batch, 77, spec.CrossAttentionDim }, generator: generator), textEmbeds, timeIds);
    }
}
