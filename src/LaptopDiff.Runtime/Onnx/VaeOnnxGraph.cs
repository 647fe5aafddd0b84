using LaptopDiff.Runtime.Vae;

namespace LaptopDiff.Runtime.Onnx;

/// <summary>
/// The two halves of diffusers' <c>AutoencoderKL</c> as ONNX graphs, as Optimum exports them for diffusers' ONNX
/// pipelines (the VAE's scaling is the pipeline's business, not the graph's):
/// <list type="bullet">
/// <item><c>vae_encoder</c>: <c>sample</c> [batch, in, height, width] images in [-1, 1] -> <c>latent_parameters</c>
/// [batch, 2 latent, height/f, width/f], the distribution's moments after <c>quant_conv</c> (mean channels, then
/// log-variance, not yet clamped);</item>
/// <item><c>vae_decoder</c>: <c>latent_sample</c> [batch, latent, h, w] raw latents (the pipeline divides by
/// <c>scaling_factor</c> first) -> <c>sample</c> [batch, out, h*f, w*f], images in [-1, 1], not clamped.</item>
/// </list>
/// </summary>
internal static class VaeOnnxGraph
{
    public static OnnxGraph BuildEncoder(VaeConfig config, IOnnxWeightSource weights, OnnxPrecision precision)
    {
        var g = new OnnxGraph("vae_encoder", precision, weights);
        var channels = config.BlockOutChannels;
        var h = g.Conv(g.Input("sample", g.Compute, "batch_size", config.InChannels, "sample_height", "sample_width"), "encoder.conv_in");
        for (int i = 0; i < channels.Count; i++)
        {
            for (int j = 0; j < config.LayersPerBlock; j++)
            {
                int inChannels = j > 0 ? channels[i] : i == 0 ? channels[0] : channels[i - 1];
                h = Resnet(g, config, h, $"encoder.down_blocks.{i}.resnets.{j}", inChannels, channels[i]);
            }
            // diffusers' VAE downsampler: zero-pad the bottom row and right column, 3x3 stride 2 without padding
            if (i < channels.Count - 1) h = g.Conv(h, $"encoder.down_blocks.{i}.downsamplers.0.conv", stride: 2, pads: [0, 0, 1, 1]);
        }
        h = MidBlock(g, config, h, "encoder.mid_block", channels[^1]);
        h = g.Conv(g.Silu(g.GroupNorm(h, "encoder.conv_norm_out", config.NormGroups, VaeResnetBlock.Eps), "encoder.conv_norm_out"), "encoder.conv_out");
        if (config.UseQuantConv) h = g.Conv(h, "quant_conv");
        g.Output(h, "latent_parameters", g.Compute, "batch_size", 2 * config.LatentChannels, $"sample_height / {config.DownscaleFactor}", $"sample_width / {config.DownscaleFactor}");
        return g;
    }

    public static OnnxGraph BuildDecoder(VaeConfig config, IOnnxWeightSource weights, OnnxPrecision precision)
    {
        var g = new OnnxGraph("vae_decoder", precision, weights);
        var reversed = config.BlockOutChannels.Reverse().ToList();
        var h = g.Input("latent_sample", g.Compute, "batch_size", config.LatentChannels, "latent_height", "latent_width");
        if (config.UsePostQuantConv) h = g.Conv(h, "post_quant_conv");
        h = g.Conv(h, "decoder.conv_in");
        h = MidBlock(g, config, h, "decoder.mid_block", reversed[0]);
        for (int i = 0; i < reversed.Count; i++)
        {
            for (int j = 0; j < config.LayersPerBlock + 1; j++)
            {
                int inChannels = j > 0 ? reversed[i] : i == 0 ? reversed[0] : reversed[i - 1];
                h = Resnet(g, config, h, $"decoder.up_blocks.{i}.resnets.{j}", inChannels, reversed[i]);
            }
            if (i < reversed.Count - 1) h = g.Upsample(h, $"decoder.up_blocks.{i}.upsamplers.0", sizeOf: null);
        }
        h = g.Conv(g.Silu(g.GroupNorm(h, "decoder.conv_norm_out", config.NormGroups, VaeResnetBlock.Eps), "decoder.conv_norm_out"), "decoder.conv_out");
        g.Output(h, "sample", g.Compute, "batch_size", config.OutChannels, $"latent_height * {config.DownscaleFactor}", $"latent_width * {config.DownscaleFactor}");
        return g;
    }

    private static string Resnet(OnnxGraph g, VaeConfig config, string x, string prefix, int inChannels, int outChannels) =>
        g.Resnet(x, prefix, config.NormGroups, VaeResnetBlock.Eps, tembAct: null, hasShortcut: inChannels != outChannels);

    /// <summary><c>resnets.0</c>, the single-head self-attention <c>attentions.0</c> (when the config has it), <c>resnets.1</c>.</summary>
    private static string MidBlock(OnnxGraph g, VaeConfig config, string x, string prefix, int channels)
    {
        var h = Resnet(g, config, x, $"{prefix}.resnets.0", channels, channels);
        if (config.MidBlockAttention) h = Attention(g, config, h, $"{prefix}.attentions.0");
        return Resnet(g, config, h, $"{prefix}.resnets.1", channels, channels);
    }

    /// <summary>x + to_out(attention(group_norm(x))) over the pixels as tokens, one head of all channels: [B,C,H,W] -> [B,C,H,W].</summary>
    private static string Attention(OnnxGraph g, VaeConfig config, string x, string prefix)
    {
        var n = g.GroupNorm(x, $"{prefix}.group_norm", config.NormGroups, VaeResnetBlock.Eps);
        var tokens = g.Op("Transpose", prefix, [g.Op("Reshape", prefix, [n, g.Int64s(0, 0, -1)])], OnnxGraph.Attr("perm", 0, 2, 1));   // [B,HW,C]
        var o = g.Attention(tokens, null, AttentionKeys.Diffusers(prefix), heads: 1, projectionBias: true);                            // [B,HW,C]
        o = g.Op("Reshape", prefix, [g.Op("Transpose", prefix, [o], OnnxGraph.Attr("perm", 0, 2, 1)), g.Op("Shape", prefix, [x])]);    // [B,C,H,W]
        return g.Op("Add", prefix, [x, o]);
    }
}
