using LaptopDiff.Runtime.Randomness;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// How a run that trains the text encoder feeds it captions: each sample's stored token ids, replaced by the empty
/// prompt's ids where the conditioning is dropped (classifier-free guidance then guides against exactly what the
/// pipeline encodes for an empty negative prompt), and otherwise with 0 to <see cref="MaxFillers"/> random vocabulary
/// tokens (count uniform) inserted at random places between the start and end tokens. The fillers are rows of the
/// token embedding that training barely touches, as the embeddings of words no caption contains stay untrained: the
/// text encoder learns to read the caption's known words and ignore unknown ones, so new phrasings keep their meaning.
/// </summary>
/// <param name="EmptyIds">The empty prompt's padded ids (start, end, padding).</param>
/// <param name="Specials">Ids never drawn as fillers (start, end, padding).</param>
public sealed record CaptionTokens(long[] EmptyIds, int EosId, int PadId, IReadOnlySet<long> Specials, int VocabSize, int MaxFillers)
{
    /// <summary>A copy of one sample's padded ids with its fillers, from the sample position's own stream.</summary>
    public long[] WithFillers(ReadOnlySpan<long> ids, SeededRandom random)
    {
        var result = ids.ToArray();
        if (MaxFillers == 0) return result;
        int end = Array.IndexOf(result, (long)EosId, 1);
        if (end < 1) return result;                                          // no end token: leave as stored
        int count = (int)(random.Uniform(0) * (MaxFillers + 1));
        var body = new List<long>(result[1..end]);
        for (int j = 0; j < count; j++)
        {
            long token = (long)(random.Uniform(1 + 2 * j) * VocabSize);
            while (Specials.Contains(token)) token = (token + 1) % VocabSize;
            body.Insert((int)(random.Uniform(2 + 2 * j) * (body.Count + 1)), token);
        }
        int kept = Math.Min(body.Count, result.Length - 2);                 // cut like the tokenizer: the end token stays
        Array.Fill(result, PadId);
        result[0] = ids[0];
        for (int i = 0; i < kept; i++) result[1 + i] = body[i];
        result[1 + kept] = EosId;
        return result;
    }
}
