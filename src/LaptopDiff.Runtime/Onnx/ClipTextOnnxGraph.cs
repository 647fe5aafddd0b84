using LaptopDiff.Runtime.Clip;
using DataType = LaptopDiff.Runtime.Onnx.Proto.TensorProto.Types.DataType;

namespace LaptopDiff.Runtime.Onnx;

/// <summary>
/// A CLIP text encoder's ONNX graph (transformers' <c>CLIPTextModel</c> / <c>CLIPTextModelWithProjection</c>), with the
/// inputs and outputs Optimum's export gives diffusers' ONNX pipelines: <c>input_ids</c> int64 [batch_size,
/// sequence_length]; outputs <c>last_hidden_state</c> (after the final LayerNorm) and <c>pooler_output</c> (it at the end
/// token), or for the projection model <c>text_embeds</c> first, then <c>last_hidden_state</c>; then every
/// <c>hidden_states.i</c> (i = 0 the embeddings ... L the last layer, before the final LayerNorm: SDXL conditions on
/// L-1, and clip skip on earlier ones).
/// </summary>
internal static class ClipTextOnnxGraph
{
    public const string InputIds = "input_ids";

    public static OnnxGraph Build(ClipTextConfig config, IOnnxWeightSource weights, OnnxPrecision precision)
    {
        var g = new OnnxGraph(config.WithProjection ? "CLIPTextModelWithProjection" : "CLIPTextModel", precision, weights);
        const string prefix = "text_model";
        int hidden = config.HiddenSize, positions = config.MaxPositionEmbeddings;
        var ids = g.Input(InputIds, DataType.Int64, "batch_size", "sequence_length");

        // embeddings: token + position 0..N-1
        var length = g.Op("Slice", "text_model.embeddings", [g.Op("Shape", "text_model.embeddings", [ids]), g.Int64s(1), g.Int64s(2)]);   // [N]
        var tokens = g.Op("Gather", "text_model.embeddings.token_embedding", [g.Weight($"{prefix}.embeddings.token_embedding.weight"), ids]);   // [B,N,C]
        var position = g.Op("Slice", "text_model.embeddings.position_embedding",
            [g.Weight($"{prefix}.embeddings.position_embedding.weight"), g.Int64s(0), length, g.Int64s(0)]);                             // [N,C]
        var h = g.Op("Add", "text_model.embeddings", [tokens, position]);

        // causal mask: 0 on and below the diagonal, -inf above, cut to [N,N]
        var maskValues = new float[positions * positions];
        for (int i = 0; i < positions; i++)
            for (int j = i + 1; j < positions; j++) maskValues[i * positions + j] = float.NegativeInfinity;
        var mask = g.Op("Slice", "text_model.causal_mask",
            [g.Floats(g.Compute, [positions, positions], maskValues), g.Int64s(0, 0), g.Op("Concat", "text_model.causal_mask", [length, length], OnnxGraph.Attr("axis", 0L)), g.Int64s(0, 1)]);

        var states = new List<string> { h };
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            var p = $"{prefix}.encoder.layers.{layer}";
            var attention = g.Attention(g.LayerNorm(h, $"{p}.layer_norm1", config.LayerNormEps), null, AttentionKeys.Clip($"{p}.self_attn"),
                config.NumAttentionHeads, projectionBias: true, mask);
            h = g.Op("Add", p, [h, attention]);
            var mlp = g.Linear(g.LayerNorm(h, $"{p}.layer_norm2", config.LayerNormEps), $"{p}.mlp.fc1");
            mlp = config.HiddenAct == ClipActivation.QuickGelu ? g.QuickGelu(mlp, $"{p}.mlp") : g.Gelu(mlp, $"{p}.mlp");
            h = g.Op("Add", p, [h, g.Linear(mlp, $"{p}.mlp.fc2")]);
            states.Add(h);
        }
        var last = g.LayerNorm(h, $"{prefix}.final_layer_norm", config.LayerNormEps);                                                   // [B,N,C]
        var pooled = Pool(g, last, ids, config.EosTokenId, hidden);                                                                     // [B,C]

        if (config.WithProjection)
        {
            g.Output(g.Op("MatMul", "text_projection", [pooled, g.WeightTransposed("text_projection.weight")]), "text_embeds", g.Compute, "batch_size", config.ProjectionDim);
            g.Output(last, "last_hidden_state", g.Compute, "batch_size", "sequence_length", hidden);
        }
        else
        {
            g.Output(last, "last_hidden_state", g.Compute, "batch_size", "sequence_length", hidden);
            g.Output(pooled, "pooler_output", g.Compute, "batch_size", hidden);
        }
        for (int i = 0; i < states.Count; i++) g.Output(states[i], $"hidden_states.{i}", g.Compute, "batch_size", "sequence_length", hidden);
        return g;
    }

    /// <summary>The last hidden state at each row's end token (<see cref="ClipPooling"/>: argmax of the ids for the legacy eos id 2, else the first eos).</summary>
    private static string Pool(OnnxGraph g, string last, string ids, int eosTokenId, int hidden)
    {
        const string scope = "text_model.pooler";
        var keys = eosTokenId == ClipPooling.LegacyEosTokenId ? ids : g.Op("Equal", scope, [ids, g.Int64s(eosTokenId)]);
        var position = g.Op("ArgMax", scope, [g.Op("Cast", scope, [keys], OnnxGraph.Attr("to", (long)DataType.Int32))],
            OnnxGraph.Attr("axis", 1L), OnnxGraph.Attr("keepdims", 1L));                                                                  // [B,1], first maximum
        var index = g.Op("Expand", scope, [g.Op("Unsqueeze", scope, [position, g.Int64s(2)]),
            g.Op("Concat", scope, [g.Op("Shape", scope, [position]), g.Int64s(hidden)], OnnxGraph.Attr("axis", 0L))]);                     // [B,1,C]
        return g.Op("Squeeze", scope, [g.Op("GatherElements", scope, [last, index], OnnxGraph.Attr("axis", 1L)), g.Int64s(1)]);           // [B,C]
    }
}
