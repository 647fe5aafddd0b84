using LaptopDiff.Runtime.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Weights;

/// <summary>Finding a model folder's weight files under diffusers' and transformers' names, variants included.</summary>
public sealed class ComponentWeightsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private const string Diffusers = ComponentWeights.DiffusersBaseName;
    private const string Transformers = ComponentWeights.TransformersBaseName;

    // Exactly representable in F16 and BF16, so any conversion error shows as inequality.
    private static readonly float[] Weight = [0.5f, -1.25f, 2f, 0.125f, -3f, 1f];
    private static readonly float[] Bias = [0.25f, -0.5f, 4f];

    private static Sequential Model() => nn.Sequential(("fc", nn.Linear(2, 3)));

    private void Write(string fileName, ScalarType dtype) =>
        SafetensorsFile.Save(_folder.File(fileName),
            [KeyValuePair.Create("fc.weight", tensor(Weight).reshape(3, 2).to_type(dtype)), KeyValuePair.Create("fc.bias", tensor(Bias).to_type(dtype))]);

    private void Touch(string fileName) => File.WriteAllText(_folder.File(fileName), "not weights");

    [Fact]
    public void The_fp16_variant_is_chosen_when_asked_and_loads_into_float32()
    {
        Write("diffusion_pytorch_model.safetensors", ScalarType.Float32);
        Write("diffusion_pytorch_model.fp16.safetensors", ScalarType.Float16);

        var plain = ComponentWeights.Resolve(_folder.Path, Diffusers);
        var fp16 = ComponentWeights.Resolve(_folder.Path, Diffusers, "fp16");

        Assert.Equal(_folder.File("diffusion_pytorch_model.safetensors"), plain.Files!.Path);
        Assert.Equal(new Dictionary<string, int> { ["F32"] = 2 }, plain.DTypes);
        Assert.Equal(_folder.File("diffusion_pytorch_model.fp16.safetensors"), fp16.Files!.Path);
        Assert.Equal(new Dictionary<string, int> { ["F16"] = 2 }, fp16.DTypes);
        Assert.Equal("diffusion_pytorch_model.fp16.safetensors: 2 tensors (F16 2), 18 bytes", fp16.Describe());

        var model = Model();
        WeightLoader.Load(model, fp16);
        Assert.Equal(ScalarType.Float32, model.state_dict()["fc.weight"].dtype);
        Assert.Equal(Weight, model.state_dict()["fc.weight"].data<float>().ToArray());
        Assert.Equal(Bias, model.state_dict()["fc.bias"].data<float>().ToArray());
    }

    [Fact]
    public void A_bf16_transformers_file_loads_into_float32()
    {
        Write("model.safetensors", ScalarType.BFloat16);

        var weights = ComponentWeights.Resolve(_folder.Path, Transformers);
        var model = Model();
        WeightLoader.Load(model, weights);

        Assert.Equal(new Dictionary<string, int> { ["BF16"] = 2 }, weights.DTypes);
        Assert.Equal(Weight, model.state_dict()["fc.weight"].data<float>().ToArray());
        Assert.Equal(Bias, model.state_dict()["fc.bias"].data<float>().ToArray());
    }

    [Fact]
    public void A_tensor_larger_than_the_conversion_buffer_converts_exactly()
    {
        // 8.4M F16 elements: more than the reader's 16 MiB buffer holds, so the conversion runs in two passes.
        const long n = 8_400_000;
        using var source = randn(n).to_type(ScalarType.Float16);
        SafetensorsFile.Save(_folder.File("model.safetensors"), [KeyValuePair.Create("w", source)]);
        var module = new ParameterHolder(n);

        WeightLoader.Load(module, ComponentWeights.Resolve(_folder.Path, Transformers));

        using var expected = source.to_type(ScalarType.Float32);
        TensorAssert.BitwiseEqual(expected, module.state_dict()["w"], "w");
    }

    private sealed class ParameterHolder : nn.Module
    {
        private readonly Parameter w;

        public ParameterHolder(long n) : base(nameof(ParameterHolder))
        {
            w = new Parameter(zeros(n));
            RegisterComponents();
        }
    }

    [Fact]
    public void A_folder_without_weights_resolves_to_none_and_refuses_to_load()
    {
        Touch("config.json");

        var weights = ComponentWeights.Resolve(_folder.Path, Diffusers, "fp16");

        Assert.False(weights.HasWeights);
        Assert.Equal("no weights", weights.Describe());
        var error = Assert.Throws<WeightsException>(() => WeightLoader.Load(Model(), weights));
        Assert.Equal($"'{_folder.Path}' holds no weights (looked for diffusion_pytorch_model.fp16.safetensors or diffusion_pytorch_model.safetensors.index.fp16.json): " +
                     "it describes the structure only. Use a folder that has the model's weight files.", error.Message);
    }

    [Theory]
    [InlineData("diffusion_pytorch_model.bin")]
    [InlineData("model.ckpt")]
    [InlineData("weights.pt")]
    [InlineData("model.pth")]
    public void Pickled_files_alone_are_refused(string fileName)
    {
        Touch(fileName);

        var error = Assert.Throws<WeightsException>(() => ComponentWeights.Resolve(_folder.Path, Diffusers));

        Assert.StartsWith($"'{_folder.Path}' holds only pickled weights ({fileName}). LaptopDiff never unpickles weights", error.Message);
    }

    [Fact]
    public void Pickled_files_beside_safetensors_are_ignored()
    {
        Touch("diffusion_pytorch_model.bin");
        Write("diffusion_pytorch_model.safetensors", ScalarType.Float32);

        Assert.Equal(_folder.File("diffusion_pytorch_model.safetensors"), ComponentWeights.Resolve(_folder.Path, Diffusers).Files!.Path);
    }

    [Fact]
    public void Weights_under_another_base_name_are_named()
    {
        Write("model.safetensors", ScalarType.Float32);

        var error = Assert.Throws<WeightsException>(() => ComponentWeights.Resolve(_folder.Path, Diffusers));

        Assert.Equal($"'{_folder.Path}' has no diffusion_pytorch_model.safetensors or diffusion_pytorch_model.safetensors.index.json; " +
                     "it has model.safetensors. Save the weights as diffusion_pytorch_model.safetensors.", error.Message);
    }

    [Fact]
    public void A_single_file_beside_an_index_is_ambiguous()
    {
        Write("model.safetensors", ScalarType.Float32);
        Touch("model.safetensors.index.json");

        var error = Assert.Throws<WeightsException>(() => ComponentWeights.Resolve(_folder.Path, Transformers));

        Assert.Equal($"'{_folder.Path}' holds both model.safetensors and model.safetensors.index.json: it is unclear which are the weights. Remove the stale one.", error.Message);
    }

    [Fact]
    public void A_variant_name_must_be_a_plain_name()
    {
        var error = Assert.Throws<WeightsException>(() => ComponentWeights.Resolve(_folder.Path, Diffusers, "../fp16"));
        Assert.Contains("variant '../fp16' is not a variant name", error.Message);
    }
}
