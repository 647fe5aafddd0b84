using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>The <c>hidden_act</c> values CLIP checkpoints use: OpenAI's models <c>quick_gelu</c>, OpenCLIP's (SDXL's bigG) <c>gelu</c>.</summary>
public enum ClipActivation { QuickGelu, Gelu }

internal static class ClipActivations
{
    public static ClipActivation? Parse(string name) => name switch
    {
        "quick_gelu" => ClipActivation.QuickGelu,
        "gelu" => ClipActivation.Gelu,
        _ => null,
    };

    /// <summary>quick_gelu is x * sigmoid(1.702 x); gelu is the exact (erf) GELU, as transformers' ACT2FN maps them.</summary>
    public static Tensor Apply(this ClipActivation activation, Tensor x) => activation switch
    {
        ClipActivation.QuickGelu => x * nn.functional.sigmoid(x * 1.702),
        _ => nn.functional.gelu(x),
    };
}
