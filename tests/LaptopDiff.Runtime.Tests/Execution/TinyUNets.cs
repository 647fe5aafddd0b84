using LaptopDiff.Runtime.Execution;
using LaptopDiff.Spec;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Execution;

/// <summary>
/// The fixture U-Nets (tiny-sd15, tiny-sdxl) as inline specs, their weights and their reference I/O.
/// The YAML mirrors each fixture's diffusers config; <see cref="StateDictKeyTests"/> checks that the
/// expanded keys equal the fixture's keys.tsv, so the two cannot drift apart.
/// </summary>
internal static class TinyUNets
{
    public const string Sd15 = "tiny-sd15";
    public const string Sdxl = "tiny-sdxl";

    private const string Sd15Yaml = """
        name: TinySd15
        sample_size: 16
        in_channels: 4
        out_channels: 4
        cross_attention_dim: 32
        norm: { groups: 8, eps: 1.0e-5 }
        attention: { projection: conv }
        down:
          - { type: cross_attn, channels: 32, layers: 2, heads: 8 }
          - { type: plain, channels: 64, layers: 2 }
        mid: { type: cross_attn, heads: 8 }
        up:
          - { type: plain, channels: 64, layers: 3 }
          - { type: cross_attn, channels: 32, layers: 3, heads: 8 }
        """;

    // attention_head_dim [2,4,8] = heads per stage; transformer_layers_per_block [1,1,2]; mid uses the last stage's.
    private const string SdxlYaml = """
        name: TinySdxl
        sample_size: 16
        cross_attention_dim: 32
        norm: { groups: 8 }
        attention: { projection: linear }
        addition_embedding: { type: text_time, time_embed_dim: 8, text_embed_dim: 24 }
        down:
          - { type: plain, channels: 32, layers: 2 }
          - { type: cross_attn, channels: 64, layers: 2, heads: 4, transformer_depth: 1 }
          - { type: cross_attn, channels: 64, layers: 2, heads: 8, transformer_depth: 2 }
        mid: { type: cross_attn, heads: 8, transformer_depth: 2 }
        up:
          - { type: cross_attn, channels: 64, layers: 3, heads: 8, transformer_depth: 2 }
          - { type: cross_attn, channels: 64, layers: 3, heads: 4, transformer_depth: 1 }
          - { type: plain, channels: 32, layers: 3 }
        """;

    public static UNetSpec Spec(string fixture) =>
        SpecParser.Parse($"{fixture}.unet.yaml", fixture == Sd15 ? Sd15Yaml : fixture == Sdxl ? SdxlYaml : throw new ArgumentException(fixture))
            .GetSpecOrThrow();

    public static UNetLayout Layout(string fixture, PruneGranularity granularity = PruneGranularity.Transformer, params string[] removed)
    {
        var spec = Spec(fixture) with { Granularity = granularity, Removed = removed.ToEquatableArray() };
        return LayoutBuilder.BuildOrThrow(spec, $"{fixture}.unet.yaml");
    }

    /// <summary>A model with the fixture's weights (for a pruned layout: the surviving ones).</summary>
    public static UNet2DCondition Load(string fixture, PruneGranularity granularity = PruneGranularity.Transformer, params string[] removed)
    {
        var model = new UNet2DCondition(Layout(fixture, granularity, removed));
        CopyWeights(model, Weights(fixture));
        model.eval();
        return model;
    }

    private static readonly Dictionary<string, Dictionary<string, Tensor>> WeightCache = new();
    private static readonly Dictionary<string, Dictionary<string, Tensor>> IoCache = new();

    public static Dictionary<string, Tensor> Weights(string fixture) => Cached(WeightCache, TestPaths.DiffusersFixture($"{fixture}.safetensors"));

    public static Dictionary<string, Tensor> Io(string fixture) => Cached(IoCache, TestPaths.DiffusersFixture($"{fixture}.io.safetensors"));

    private static Dictionary<string, Tensor> Cached(Dictionary<string, Dictionary<string, Tensor>> cache, string path)
    {
        lock (cache)
        {
            if (!cache.TryGetValue(path, out var dict))
            {
                // shared by every test: never inference tensors, whichever test (sweep, training) loads it first
                using var normalMode = inference_mode(false);
                dict = Safetensors.LoadStateDict(path);
                foreach (var t in dict.Values) t.DetachFromDisposeScope();
                cache[path] = dict;
            }
            return dict;
        }
    }

    /// <summary>Copies every tensor of the module's state dict from <paramref name="source"/> (which must have it, same shape).</summary>
    public static void CopyWeights(nn.Module module, IReadOnlyDictionary<string, Tensor> source)
    {
        using var _ = no_grad();
        foreach (var (name, target) in module.state_dict())
        {
            Assert.True(source.TryGetValue(name, out var value), $"no weight '{name}' in the fixture");
            Assert.Equal(target.shape, value!.shape);
            target.copy_(value);
        }
    }

    public static UNetInputs Inputs(string fixture)
    {
        var io = Io(fixture);
        return new UNetInputs(io["sample"], io["timestep"], io["encoder_hidden_states"],
            io.GetValueOrDefault("text_embeds"), io.GetValueOrDefault("time_ids"));
    }
}

/// <summary>Relative L2 and max-abs comparisons in double precision.</summary>
internal static class Close
{
    public const double RelL2 = 1e-5;
    public const double MaxAbs = 5e-5;

    public static (double RelL2, double MaxAbs) Errors(Tensor actual, Tensor expected)
    {
        Xunit.Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var a = actual.detach().to_type(ScalarType.Float64);
        var e = expected.detach().to_type(ScalarType.Float64);
        var diff = a - e;
        double rel = diff.norm().item<double>() / Math.Max(e.norm().item<double>(), 1e-30);
        double max = diff.abs().max().item<double>();
        return (rel, max);
    }

    /// <summary>Asserts the fixture tolerance (rel L2 &lt;= 1e-5, max abs &lt;= 5e-5) and returns the errors.</summary>
    public static (double RelL2, double MaxAbs) Assert(Tensor actual, Tensor expected, string what)
    {
        var (rel, max) = Errors(actual, expected);
        Xunit.Assert.True(rel <= RelL2 && max <= MaxAbs, $"{what}: rel L2 {rel:E3} (<= {RelL2:E0}), max abs {max:E3} (<= {MaxAbs:E0})");
        return (rel, max);
    }

    /// <summary>Same function run two ways (mask vs removal, resumed vs full): float noise only.</summary>
    public static void Same(Tensor actual, Tensor expected, string what, double tol = 1e-6)
    {
        var (rel, max) = Errors(actual, expected);
        Xunit.Assert.True(rel <= tol && max <= 10 * tol, $"{what}: rel L2 {rel:E3}, max abs {max:E3}");
    }
}
