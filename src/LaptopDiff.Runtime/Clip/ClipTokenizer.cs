using LaptopDiff.Runtime.Inputs;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// The CLIP tokenizer of Stable Diffusion pipelines and CLIP scorers, read from a transformers tokenizer folder:
/// <see cref="ClipTextCleaner"/> (openai/CLIP's clean-up and lower-casing), <see cref="ClipPreTokenizer"/>,
/// byte-level BPE with the <c>&lt;/w&gt;</c> suffix, then <c>[start] + ids + [end]</c> cut to
/// <see cref="MaxLength"/> keeping the end token, padded with the folder's pad token.
/// </summary>
public sealed class ClipTokenizer
{
    private readonly ClipBpe _bpe;

    private ClipTokenizer(ClipBpe bpe, int bosId, int eosId, int padId, int maxLength)
    {
        _bpe = bpe;
        BosId = bosId;
        EosId = eosId;
        PadId = padId;
        MaxLength = maxLength;
    }

    /// <summary><c>&lt;|startoftext|&gt;</c>: 49406 in CLIP's vocabulary.</summary>
    public int BosId { get; }
    /// <summary><c>&lt;|endoftext|&gt;</c>: 49407 in CLIP's vocabulary.</summary>
    public int EosId { get; }
    /// <summary>The folder's pad token: 49407 for SD's <c>tokenizer/</c>, 0 (<c>!</c>) for SDXL's <c>tokenizer_2/</c>.</summary>
    public int PadId { get; }
    /// <summary><c>model_max_length</c>: 77, the text encoder's positions.</summary>
    public int MaxLength { get; }

    /// <summary>Loads <c>vocab.json</c>, <c>merges.txt</c> and the special tokens of a tokenizer folder.</summary>
    public static ClipTokenizer Load(string folder)
    {
        var settings = ClipTokenizerFiles.ReadSettings(folder);
        var vocabulary = ClipTokenizerFiles.ReadVocabulary(folder);
        int Id(string key, string token) => vocabulary.TryGetValue(token, out int id) ? id
            : throw new InputException($"tokenizer folder '{folder}': its {key} '{token}' is not a token of {ClipTokenizerFiles.VocabularyFile}.");
        int bos = Id("bos_token", settings.BosToken), eos = Id("eos_token", settings.EosToken), pad = Id("pad_token", settings.PadToken);
        var specials = ClipPreTokenizer.SpecialTokens.Where(vocabulary.ContainsKey).ToDictionary(t => t, t => vocabulary[t]);
        var merges = ClipTokenizerFiles.ReadMerges(folder, vocabulary, specials.Keys);
        return new ClipTokenizer(new ClipBpe(vocabulary, merges, specials), bos, eos, pad, settings.MaxLength);
    }

    /// <summary>Start token, BPE ids, end token; cut to <see cref="MaxLength"/> with the end token kept. Unpadded.</summary>
    public TokenizedPrompt Encode(string prompt)
    {
        var body = _bpe.Encode(ClipTextCleaner.Clean(prompt));
        int kept = Math.Min(body.Count, MaxLength - 2);
        var ids = new int[kept + 2];
        ids[0] = BosId;
        for (int i = 0; i < kept; i++) ids[i + 1] = body[i];
        ids[^1] = EosId;
        var removed = body.Skip(kept).ToArray();
        return new TokenizedPrompt(ids, removed.Length > 0, body.Count + 2, removed);
    }

    /// <summary>
    /// Ids back to text as transformers' <c>decode</c> writes it: the tokens' bytes as UTF-8, each word end
    /// (<c>&lt;/w&gt;</c>) a space, trimmed; special tokens appear as their strings.
    /// </summary>
    public string Decode(IEnumerable<int> ids) => _bpe.Decode(ids);

    /// <summary><see cref="Encode"/> padded with <see cref="PadId"/> to exactly <see cref="MaxLength"/> ids.</summary>
    public long[] EncodePadded(string prompt)
    {
        var ids = Encode(prompt).Ids;
        var padded = new long[MaxLength];
        Array.Fill(padded, PadId);
        for (int i = 0; i < ids.Length; i++) padded[i] = ids[i];
        return padded;
    }

    /// <summary>The padded ids of a batch of prompts as the text encoder's input: [B, MaxLength] int64 on the CPU.</summary>
    public Tensor EncodeBatch(IReadOnlyList<string> prompts)
    {
        var ids = new long[prompts.Count * MaxLength];
        for (int b = 0; b < prompts.Count; b++) EncodePadded(prompts[b]).CopyTo(ids, b * MaxLength);
        return tensor(ids, [prompts.Count, MaxLength], ScalarType.Int64);
    }
}
