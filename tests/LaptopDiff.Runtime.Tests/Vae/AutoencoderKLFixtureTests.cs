using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Vae;
using LaptopDiff.Runtime.Weights;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Vae;

/// <summary>The C# VAE is diffusers' <c>AutoencoderKL</c>: same keys, same moments, same decoded images.</summary>
public sealed class AutoencoderKLFixtureTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TinyVaes.Sd15)]
    [InlineData(TinyVaes.Sdxl)]
    public void State_dict_keys_and_shapes_are_the_weight_files(string pipeline)
    {
        using var vae = new AutoencoderKL(VaeConfigReader.ReadFile(TinyVaes.ConfigPath(pipeline)));
        var header = SafetensorsFile.ReadHeader(TinyVaes.WeightsPath(pipeline));

        var expected = header.Entries.Select(e => (e.Name, string.Join(",", e.Shape))).OrderBy(k => k.Name, StringComparer.Ordinal);
        var actual = vae.state_dict().Select(kv => (kv.Key, string.Join(",", kv.Value.shape))).OrderBy(k => k.Key, StringComparer.Ordinal);
        Assert.Equal(expected, actual);
        Assert.Contains("encoder.down_blocks.0.downsamplers.0.conv.weight", vae.state_dict().Keys);
        Assert.Contains("decoder.mid_block.attentions.0.to_out.0.bias", vae.state_dict().Keys);
    }

    [Theory]
    [InlineData(TinyVaes.Sd15)]
    [InlineData(TinyVaes.Sdxl)]
    public void Encode_and_decode_match_diffusers(string pipeline)
    {
        using var vae = TinyVaes.Load(pipeline);
        var io = TinyVaes.Io(pipeline);
        using var _ = no_grad();
        using var scope = NewDisposeScope();

        using var distribution = vae.Encode(io["vae.image"]);
        Report("vae.mean", Close.Assert(distribution.Mean, io["vae.mean"], $"{pipeline} vae.mean"));
        Report("vae.logvar", Close.Assert(distribution.LogVar, io["vae.logvar"], $"{pipeline} vae.logvar"));
        Report("vae.decoded", Close.Assert(vae.Decode(io["vae.latents"]), io["vae.decoded"], $"{pipeline} vae.decoded"));

        void Report(string name, (double RelL2, double MaxAbs) e) => output.WriteLine($"{pipeline} {name}: rel L2 {e.RelL2:E2}, max abs {e.MaxAbs:E2}");
    }

    [Fact]
    public void Slicing_the_batch_gives_the_batched_values()
    {
        using var vae = TinyVaes.Load(TinyVaes.Sd15);
        var io = TinyVaes.Io(TinyVaes.Sd15);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var batched = vae.Encode(io["vae.image"]);
        var decoded = vae.Decode(io["vae.latents"]);

        vae.SliceBatch = true;
        using var sliced = vae.Encode(io["vae.image"]);
        // one image and two can take different convolution kernels (libtorch runs small batch-1 inputs with its own,
        // the rest with oneDNN's, blocked by batch), so they differ by float32 rounding: about 1e-6 relative here
        const double tol = 1e-5;
        Close.Same(sliced.Mean, batched.Mean, "sliced mean", tol);
        Close.Same(sliced.LogVar, batched.LogVar, "sliced logvar", tol);
        Close.Same(vae.Decode(io["vae.latents"]), decoded, "sliced decode", tol);
    }

    [Fact]
    public void A_weights_file_of_another_structure_is_refused_naming_the_keys()
    {
        var config = VaeConfigReader.ReadFile(TinyVaes.ConfigPath(TinyVaes.Sd15)) with { LatentChannels = 8, MidBlockAttention = false };
        using var vae = new AutoencoderKL(config);

        var e = Assert.Throws<WeightsException>(() => WeightLoader.Load(vae, TinyVaes.WeightsPath(TinyVaes.Sd15), strict: true));
        Assert.Contains("quant_conv.weight expected [16,16,1,1], found [8,8,1,1]", e.Message);
        Assert.Contains("20 unexpected", e.Message);                                      // both mid attentions
        Assert.Contains("decoder.mid_block.attentions.0.group_norm.bias", e.Message);
    }

    [Fact]
    public void Wrong_input_channels_are_refused()
    {
        using var vae = TinyVaes.Load(TinyVaes.Sd15);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Assert.Contains("[B,3,H,W]", Assert.Throws<ArgumentException>(() => vae.Encode(zeros(1, 4, 16, 16))).Message);
        Assert.Contains("[B,4,H,W]", Assert.Throws<ArgumentException>(() => vae.Decode(zeros(1, 3, 2, 2))).Message);
    }
}
