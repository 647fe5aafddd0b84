using System.Text.Json;
using System.Text.RegularExpressions;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Diffusers;

/// <summary>
/// Converts a diffusers <c>UNet2DConditionModel</c> config.json into a <see cref="UNetSpec"/>, following
/// <c>UNet2DConditionModel.__init__</c>: per-stage lists, the reversed up path (one layer more per up
/// stage), heads from <c>num_attention_heads</c> or (historically) <c>attention_head_dim</c>. Options that
/// change the computation in ways LaptopDiff does not implement are refused by name.
/// </summary>
public static partial class DiffusersConfigImporter
{
    public static UNetSpec ImportFile(string path, string? name = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"diffusers config not found: {path}", path);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new DiffusersConfigException(path, "config.json", $"not valid JSON ({e.Message})"); }
        using (doc) return Import(doc.RootElement, path, name ?? NameFromFile(path));
    }

    public static UNetSpec Import(JsonElement root, string path, string name)
    {
        var c = new ConfigReader(root, path);
        var className = c.String("_class_name");
        if (className != null && className != "UNet2DConditionModel")
            throw c.Unsupported("_class_name", className, "only UNet2DConditionModel configs can be imported");

        c.Require("act_fn", "silu");
        c.Require("attention_type", "default");
        c.Require("time_embedding_type", "positional");
        c.Require("resnet_time_scale_shift", "default");
        c.RequireFalsy("center_input_sample", "class_embed_type", "num_class_embeds", "class_embeddings_concat",
            "cross_attention_norm", "dual_cross_attention", "encoder_hid_dim", "encoder_hid_dim_type",
            "mid_block_only_cross_attention", "resnet_skip_time_act", "time_cond_proj_dim", "time_embedding_act_fn",
            "timestep_post_act");
        c.RequireNumber("conv_in_kernel", 3);
        c.RequireNumber("conv_out_kernel", 3);
        c.RequireNumber("downsample_padding", 1);
        c.RequireNumber("mid_block_scale_factor", 1);
        c.RequireNumber("resnet_out_scale_factor", 1);
        if (c.BoolOrList("only_cross_attention").Any(x => x))
            throw c.Unsupported("only_cross_attention", "true", "self-attention-free transformer blocks are not implemented");
        // dropout (training only) and upcast_attention (fp16 only) do not change a float32 forward.

        var downTypes = c.StringList("down_block_types", required: true);
        var upTypes = c.StringList("up_block_types", required: true);
        var channels = c.IntList("block_out_channels", required: true);
        int stages = channels.Count;
        if (downTypes.Count != stages || upTypes.Count != stages)
            throw c.Unsupported("down_block_types", $"{downTypes.Count} down / {upTypes.Count} up types",
                $"must have one entry per block_out_channels entry ({stages})");

        var layers = c.PerStage("layers_per_block", stages, 2);
        var heads = c.PerStageOrNull("num_attention_heads", stages) ?? c.PerStage("attention_head_dim", stages, 8);
        var crossDims = c.PerStage("cross_attention_dim", stages, 1280);
        if (crossDims.Distinct().Count() > 1)
            throw c.Unsupported("cross_attention_dim", string.Join(",", crossDims), "a different cross_attention_dim per stage is not supported");
        var depthDown = c.NestedPerStage("transformer_layers_per_block", stages, layers, 1);
        var reverseDepth = c.Has("reverse_transformer_layers_per_block")
            ? c.NestedPerStage("reverse_transformer_layers_per_block", stages, layers.AsEnumerable().Reverse().Select(l => l + 1).ToList(), 1)
            : null;

        var down = new List<StageSpec>();
        for (int i = 0; i < stages; i++)
        {
            var kind = StageKind(c, "down_block_types", downTypes[i], "CrossAttnDownBlock2D", "DownBlock2D");
            down.Add(new StageSpec
            {
                Kind = kind, Channels = channels[i], Layers = layers[i], Resample = i < stages - 1,
                Heads = kind == BlockKind.CrossAttn ? heads[i] : 0,
                TransformerDepth = kind == BlockKind.CrossAttn ? depthDown[i].ToEquatableArray() : EquatableArray<int>.Empty,
            });
        }

        var up = new List<StageSpec>();
        for (int i = 0; i < stages; i++)
        {
            int d = stages - 1 - i; // the up path walks the per-stage lists reversed
            var kind = StageKind(c, "up_block_types", upTypes[i], "CrossAttnUpBlock2D", "UpBlock2D");
            int upLayers = layers[d] + 1;
            var depth = reverseDepth?[i] ?? Enumerable.Repeat(depthDown[d][0], upLayers).ToList();
            up.Add(new StageSpec
            {
                Kind = kind, Channels = channels[d], Layers = upLayers, Resample = i < stages - 1,
                Heads = kind == BlockKind.CrossAttn ? heads[d] : 0,
                TransformerDepth = kind == BlockKind.CrossAttn ? depth.ToEquatableArray() : EquatableArray<int>.Empty,
            });
        }

        var midType = c.String("mid_block_type") ?? (c.IsPresent("mid_block_type") ? null : "UNetMidBlock2DCrossAttn");
        var mid = midType switch
        {
            null => new MidSpec { Kind = MidKind.None },
            "UNetMidBlock2DCrossAttn" => new MidSpec { Kind = MidKind.CrossAttn, Heads = heads[stages - 1], TransformerDepth = depthDown[stages - 1][0] },
            "UNetMidBlock2D" => new MidSpec { Kind = MidKind.Resnet },
            _ => throw c.Unsupported("mid_block_type", midType, "expected UNetMidBlock2DCrossAttn, UNetMidBlock2D or null"),
        };

        AdditionEmbeddingSpec? addition = null;
        var additionType = c.String("addition_embed_type");
        if (additionType == "text_time")
        {
            int timeDim = c.Int("addition_time_embed_dim") ?? throw c.Unsupported("addition_time_embed_dim", "null", "text_time needs it");
            int projection = c.Int("projection_class_embeddings_input_dim") ?? throw c.Unsupported("projection_class_embeddings_input_dim", "null", "text_time needs it");
            int textDim = projection - 6 * timeDim;
            if (textDim <= 0)
                throw c.Unsupported("projection_class_embeddings_input_dim", projection.ToString(), $"must exceed 6 x addition_time_embed_dim ({6 * timeDim})");
            addition = new AdditionEmbeddingSpec { TimeEmbedDim = timeDim, TextEmbedDim = textDim };
        }
        else if (additionType != null)
            throw c.Unsupported("addition_embed_type", additionType, "only text_time (SDXL) is supported");

        return new UNetSpec
        {
            Name = name,
            Description = $"imported from {Path.GetFileName(path)}",
            SampleSize = c.SampleSize(),
            InChannels = c.Int("in_channels") ?? 4,
            OutChannels = c.Int("out_channels") ?? 4,
            CrossAttentionDim = crossDims[0],
            TimeEmbeddingDim = c.Int("time_embedding_dim") ?? 4 * channels[0],
            FlipSinToCos = c.Bool("flip_sin_to_cos") ?? true,
            FreqShift = c.Int("freq_shift") ?? 0,
            Norm = new NormSpec { Groups = c.Int("norm_num_groups") ?? 32, Eps = c.Double("norm_eps") ?? 1e-5 },
            Projection = c.Bool("use_linear_projection") == true ? AttentionProjection.Linear : AttentionProjection.Conv,
            AdditionEmbedding = addition,
            Down = down.ToEquatableArray(),
            Mid = mid,
            Up = up.ToEquatableArray(),
            Granularity = PruneGranularity.Transformer,
        };
    }

    /// <summary><c>tiny-sd15.config.json</c> → <c>TinySd15UNet</c>.</summary>
    public static string NameFromFile(string path)
    {
        var stem = Path.GetFileName(path);
        foreach (var suffix in new[] { ".config.json", ".json" })
            if (stem.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) { stem = stem[..^suffix.Length]; break; }
        if (stem.Equals("config", StringComparison.OrdinalIgnoreCase))
            stem = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? "Imported";
        var words = WordSplitter().Split(stem).Where(w => w.Length > 0).Select(w => char.ToUpperInvariant(w[0]) + w[1..]);
        var name = string.Concat(words);
        if (name.Length == 0 || char.IsDigit(name[0])) name = "Model" + name;
        if (name.EndsWith("Unet", StringComparison.Ordinal)) name = name[..^4] + "UNet";
        return name.EndsWith("UNet", StringComparison.Ordinal) ? name : name + "UNet";
    }

    private static BlockKind StageKind(ConfigReader c, string option, string type, string crossAttn, string plain)
    {
        if (type == crossAttn) return BlockKind.CrossAttn;
        if (type == plain) return BlockKind.Plain;
        throw c.Unsupported(option, type, $"expected {crossAttn} or {plain}");
    }

    [GeneratedRegex("[^A-Za-z0-9]+")]
    private static partial Regex WordSplitter();
}
