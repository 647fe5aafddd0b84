namespace LaptopDiff.Runtime.Calibration;

/// <summary>Names of a calibration file's tensors and metadata (see README.md in this folder).</summary>
public static class CalibrationFormat
{
    /// <summary>Value of the <c>format</c> metadata key this version reads and writes.</summary>
    public const string Version = "laptopdiff.calibration/1";

    /// <summary>Clean latents x_0 [N, C, H, W] (already scaled, e.g. by the VAE's 0.18215 for SD-1.5).</summary>
    public const string Latents = "latents";
    /// <summary>Text-encoder states [N, T, D].</summary>
    public const string EncoderHiddenStates = "encoder_hidden_states";
    /// <summary>Class labels [N] (int64 or uint8), instead of <see cref="EncoderHiddenStates"/>: a class conditioner turns them into states.</summary>
    public const string Labels = "labels";
    /// <summary>SDXL pooled text embeddings [N, P] (text_time models only).</summary>
    public const string TextEmbeds = "text_embeds";
    /// <summary>SDXL size/crop conditioning [N, 6] (text_time models only).</summary>
    public const string TimeIds = "time_ids";
    /// <summary>Pixel images: reserved for a later version (needs a VAE encoder); refused with a message.</summary>
    public const string Images = "images";

    // __metadata__ keys
    public const string FormatKey = "format";
    public const string SourceKey = "source";
    public const string SpecKey = "spec";
    public const string SeedKey = "seed";
    public const string CreatedKey = "created";
    public const string ToolKey = "tool";
}
