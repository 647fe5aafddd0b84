using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// Fresh weights for a CLIP text encoder as transformers' <c>CLIPPreTrainedModel._init_weights</c> draws them
/// (initializer_factor 1), from a private seeded generator: token and position embeddings N(0, 0.02); q, k, v
/// N(0, D^-1/2 (2L)^-1/2), out_proj N(0, D^-1/2); fc1 N(0, (2D)^-1/2), fc2 N(0, D^-1/2 (2L)^-1/2); a projection
/// N(0, D^-1/2); biases 0, LayerNorms 1 and 0. The small embeddings matter when training from scratch: with
/// PyTorch's N(0, 1) embedding default the position embeddings dominate every padding position, which then carries
/// almost nothing of the prompt, and a denoiser cross-attending to all 77 positions finds little to learn from.
/// </summary>
public static class ClipTextInitialization
{
    public static void Apply(ClipTextModel model, long seed)
    {
        var config = model.Config;
        double d = config.HiddenSize, layers = config.NumHiddenLayers;
        double inProj = Math.Pow(d, -0.5) * Math.Pow(2 * layers, -0.5), outProj = Math.Pow(d, -0.5), fc = Math.Pow(2 * d, -0.5);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator(unchecked((ulong)seed));
        foreach (var (name, p) in model.named_parameters())
        {
            double? std = name switch
            {
                _ when name.EndsWith("embedding.weight", StringComparison.Ordinal) => 0.02,
                _ when name.EndsWith("q_proj.weight", StringComparison.Ordinal) || name.EndsWith("k_proj.weight", StringComparison.Ordinal)
                       || name.EndsWith("v_proj.weight", StringComparison.Ordinal) || name.EndsWith("fc2.weight", StringComparison.Ordinal) => inProj,
                _ when name.EndsWith("out_proj.weight", StringComparison.Ordinal) || name == "text_projection.weight" => outProj,
                _ when name.EndsWith("fc1.weight", StringComparison.Ordinal) => fc,
                _ => null,
            };
            if (std is { } s) p.copy_(randn(p.shape, generator: generator) * s);
            else if (name.Contains("layer_norm", StringComparison.Ordinal)) p.fill_(name.EndsWith(".weight", StringComparison.Ordinal) ? 1 : 0);
            else if (name.EndsWith(".bias", StringComparison.Ordinal)) p.zero_();
            else throw new InvalidOperationException($"no CLIP initialisation rule for '{name}'");
        }
    }
}
