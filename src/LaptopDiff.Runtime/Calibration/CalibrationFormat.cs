namespace LaptopDiff.Runtime.Calibration;

/// <summary>Names of a calibration file's tensors and metadata (see README.md in this folder).</summary>
public static class CalibrationFormat
{
    /// <summary>Value of the <c>format</c> metadata key of sets of clean latents (read and written).</summary>
    public const string Version = "laptopdiff.calibration/1";
    /// <summary>
    /// Value of the <c>format</c> key of sets that also carry fixed U-Net inputs (<see cref="NoisyLatents"/> at
    /// <see cref="Timesteps"/>) or the empty prompt's conditioning; this version reads both values.
    /// </summary>
    public const string VersionWithStates = "laptopdiff.calibration/2";

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
    /// <summary>Noisy latents x_t [N, C, H, W] the U-Net sees at <see cref="Timesteps"/>; with them the sweep noises nothing.</summary>
    public const string NoisyLatents = "noisy_latents";
    /// <summary>Training timesteps [N] (int64) of <see cref="NoisyLatents"/>.</summary>
    public const string Timesteps = "timesteps";
    /// <summary>The empty prompt's states [1, T, D]: what guidance and caption dropout use.</summary>
    public const string NegativeEncoderHiddenStates = "negative_encoder_hidden_states";
    /// <summary>The empty prompt's pooled embedding [1, P] (text_time models only).</summary>
    public const string NegativeTextEmbeds = "negative_text_embeds";
    /// <summary>Token ids [N, T] (int64) of each sample's caption, padded as the tokenizer pads: lets a run train the text encoder.</summary>
    public const string InputIds = "input_ids";
    /// <summary>Pixel images: reserved for a later version (needs a VAE encoder); refused with a message.</summary>
    public const string Images = "images";

    // __metadata__ keys
    public const string FormatKey = "format";
    public const string SourceKey = "source";
    public const string SpecKey = "spec";
    public const string SeedKey = "seed";
    public const string CreatedKey = "created";
    public const string ToolKey = "tool";
    /// <summary>The pipeline folder whose text encoders (and VAE) made the set.</summary>
    public const string ModelKey = "model";
    /// <summary>Each sample's prompt or caption, a JSON array of strings in sample order (sets made from a pipeline).</summary>
    public const string CaptionsKey = "captions";
    /// <summary>The file's samples' image files, a JSON array of paths relative to the image folder.</summary>
    public const string FileNamesKey = "file_names";
}
