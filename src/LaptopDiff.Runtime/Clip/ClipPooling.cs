using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// Where CLIP's text tower reads its pooled output: the end token. transformers picks it in two ways, by
/// the config's <c>eos_token_id</c>: the legacy value 2 (the real SD-1.5 and SDXL configs) means
/// <c>argmax(input_ids)</c>, the first 49407 since it is the largest id; any other value means the first
/// position holding that id. (Newer transformers choose argmax whenever every row's largest id is 49407,
/// else the first <c>eos_token_id</c>; on a tokenizer's output, which always ends with 49407, the rules agree.)
/// </summary>
public static class ClipPooling
{
    public const int LegacyEosTokenId = 2;

    /// <summary>ids [B,N] -> the end-token position of each row [B] (int64).</summary>
    public static Tensor EndTokenPositions(Tensor inputIds, int eosTokenId)
    {
        using var scope = NewDisposeScope();
        var positions = eosTokenId == LegacyEosTokenId
            ? inputIds.argmax(-1)
            : inputIds.eq(eosTokenId).to_type(ScalarType.Int32).argmax(-1);   // first maximum: the first match
        return positions.MoveToOuterDisposeScope();
    }
}
