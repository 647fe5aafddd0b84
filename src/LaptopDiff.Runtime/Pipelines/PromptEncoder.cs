using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Clip;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// A pipeline's tokenizer(s) and text encoder(s), turning prompts into U-Net conditioning as diffusers'
/// <c>encode_prompt</c> does. SD: the text encoder's last hidden state, or with clip skip k the final LayerNorm of
/// <c>hidden_states[-(k+1)]</c>. SDXL: both encoders' <c>hidden_states[-(k+2)]</c> (k = 0 without clip skip)
/// concatenated along the channels, and the pooled <c>text_embeds</c> of <c>text_encoder_2</c>. Negative prompts
/// ignore clip skip; SDXL without a negative prompt guides against zeros when the folder forces it.
/// </summary>
public sealed class PromptEncoder : IDisposable
{
    private readonly (string Name, ClipTokenizer Tokenizer, ClipTextModel Encoder)[] _towers;

    private PromptEncoder(PipelineKind kind, bool forceZerosForEmptyPrompt, (string, ClipTokenizer, ClipTextModel)[] towers)
    {
        Kind = kind;
        ForceZerosForEmptyPrompt = forceZerosForEmptyPrompt;
        _towers = towers;
    }

    public PipelineKind Kind { get; }
    /// <summary>SDXL: no negative prompt means zero embeddings (the folder's <c>force_zeros_for_empty_prompt</c>).</summary>
    public bool ForceZerosForEmptyPrompt { get; }
    /// <summary><c>tokenizer</c>, then SDXL's <c>tokenizer_2</c>.</summary>
    public IReadOnlyList<ClipTokenizer> Tokenizers => _towers.Select(t => t.Tokenizer).ToList();
    /// <summary><c>text_encoder</c>, then SDXL's <c>text_encoder_2</c> (with projection).</summary>
    public IReadOnlyList<ClipTextModel> TextEncoders => _towers.Select(t => t.Encoder).ToList();
    /// <summary>D of <see cref="PromptEmbeddings.PromptEmbeds"/>: the encoder's width (SD) or both widths summed (SDXL).</summary>
    public int EmbeddingDim => _towers.Sum(t => t.Encoder.Config.HiddenSize);
    /// <summary>P of <see cref="PromptEmbeddings.PooledPromptEmbeds"/> (SDXL's <c>text_encoder_2</c> projection); null for SD.</summary>
    public int? PooledDim => Kind == PipelineKind.StableDiffusionXL ? _towers[^1].Encoder.Config.ProjectionDim : null;

    /// <summary>Loads the tokenizers first (cheap, and where broken files show), then the text encoders.</summary>
    public static PromptEncoder Load(PipelineFolder folder)
    {
        var parts = new List<(PipelineComponent Tokenizer, PipelineComponent Encoder)> { (folder.Tokenizer, folder.TextEncoder) };
        if (folder.Kind == PipelineKind.StableDiffusionXL) parts.Add((folder.Tokenizer2!, folder.TextEncoder2!));
        var tokenizers = parts.Select(p => ClipTokenizer.Load(p.Tokenizer.Folder)).ToList();
        var towers = new List<(string, ClipTokenizer, ClipTextModel)>();
        try
        {
            for (int i = 0; i < parts.Count; i++)
            {
                var encoder = parts[i].Encoder;
                var model = ClipTextModel.Load(encoder.ConfigPath!, encoder.Weights!.Require(),
                    withProjection: encoder.Kind == ComponentKind.TextEncoderWithProjection);
                towers.Add((parts[i].Tokenizer.Name, tokenizers[i], model));
            }
        }
        catch
        {
            foreach (var (_, _, model) in towers) model.Dispose();
            throw;
        }
        return new PromptEncoder(folder.Kind, folder.ForceZerosForEmptyPrompt, towers.ToArray());
    }

    /// <summary>Moves the text encoders to <paramref name="device"/>; returns this. Tokens are made on the CPU and moved by the encoders.</summary>
    public PromptEncoder MoveTo(Device device)
    {
        foreach (var (_, _, model) in _towers) ModuleDevice.MoveTo(model, device);
        return this;
    }

    /// <summary>The prompts' conditioning [N,77,D] (and SDXL's pooled [N,P]) on the encoders' device, with what truncation removed.</summary>
    public PromptEmbeddings Encode(IReadOnlyList<string> prompts, int? clipSkip = null)
    {
        if (prompts.Count == 0) throw new ArgumentException("no prompts to encode", nameof(prompts));
        var truncations = new List<PromptTruncation>();
        foreach (var (name, tokenizer, _) in _towers)
            for (int i = 0; i < prompts.Count; i++)
                if (tokenizer.Encode(prompts[i]) is { Truncated: true } t)
                    truncations.Add(new PromptTruncation(i, name, tokenizer.MaxLength, t.UntruncatedLength, tokenizer.Decode(t.RemovedIds)));
        var (embeds, pooled) = Run(prompts, clipSkip);
        return new PromptEmbeddings(embeds, pooled, truncations);
    }

    /// <summary>
    /// The unconditional half of guidance for <paramref name="conditional"/>'s batch: the negative prompt's embeddings
    /// (<c>""</c> when null), or for SDXL with <see cref="ForceZerosForEmptyPrompt"/> and no negative prompt, zeros.
    /// The negative prompt is encoded once and repeated; diffusers does not warn when it is truncated.
    /// </summary>
    public PromptEmbeddings EncodeNegative(string? negativePrompt, PromptEmbeddings conditional)
    {
        if (negativePrompt is null && ForceZerosForEmptyPrompt)
            return new PromptEmbeddings(zeros_like(conditional.PromptEmbeds), conditional.PooledPromptEmbeds is { } p ? zeros_like(p) : null, []);
        var (embeds, pooled) = Run([negativePrompt ?? ""], clipSkip: null);
        long n = conditional.Count;
        using (embeds)
        using (pooled)
            return new PromptEmbeddings(embeds.expand(n, -1, -1).contiguous(), pooled?.expand(n, -1).contiguous(), []);   // [N,77,D], [N,P]
    }

    private (Tensor Embeds, Tensor? Pooled) Run(IReadOnlyList<string> prompts, int? clipSkip)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var states = new List<Tensor>();
        Tensor? pooled = null;
        foreach (var (_, tokenizer, encoder) in _towers)
        {
            using var ids = tokenizer.EncodeBatch(prompts);                       // [N,77]
            using var output = encoder.forward(ids);
            states.Add(Kind == PipelineKind.StableDiffusion
                ? ClipSkip.StableDiffusion(encoder, output, clipSkip)              // [N,77,C]
                : ClipSkip.StableDiffusionXl(output, clipSkip));
            if (output.TextEmbeds is { } projected) pooled = projected.alias();     // [N,P], text_encoder_2 only
        }
        var embeds = states.Count == 1 ? states[0] : cat(states, -1);           // [N,77,sum C]
        return (embeds.MoveToOuterDisposeScope(), Kind == PipelineKind.StableDiffusionXL ? pooled!.MoveToOuterDisposeScope() : null);
    }

    public void Dispose()
    {
        foreach (var (_, _, model) in _towers) model.Dispose();
    }
}
