using System.Globalization;
using System.Text.Json;
using LaptopDiff.Runtime.Diffusers;

namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// Reads a diffusers <c>AutoencoderKL</c> config.json (<c>AutoencoderKL.__init__</c>'s options and defaults). A value
/// LaptopDiff does not implement is a <see cref="DiffusersConfigException"/> naming the file, option and value.
/// </summary>
public static class VaeConfigReader
{
    private const string DownBlock = "DownEncoderBlock2D";
    private const string UpBlock = "UpDecoderBlock2D";

    public static VaeConfig ReadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"VAE config not found: {path}", path);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new DiffusersConfigException(path, "config.json", $"not valid JSON ({e.Message})"); }
        using (doc) return Read(doc.RootElement, path);
    }

    public static VaeConfig Read(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new DiffusersConfigException(path, "config.json", "expected a JSON object");
        var c = new ConfigReader(root, path);
        var className = c.String("_class_name");
        if (className != null && className != "AutoencoderKL")
            throw c.Unsupported("_class_name", className, "only AutoencoderKL VAEs are implemented");

        var act = c.String("act_fn");
        if (act != null && act != "silu" && act != "swish")   // diffusers maps both names to SiLU
            throw c.Unsupported("act_fn", act, "only 'silu' is implemented");
        foreach (var option in new[] { "latents_mean", "latents_std" })
            if (c.Has(option))
                throw c.Unsupported(option, "non-null",
                    "per-channel latent statistics are not implemented (diffusers' SDXL pipelines would map latents " +
                    "with them as latents * latents_std / scaling_factor + latents_mean; SD-1.5's ignores them)");

        var channels = c.Has("block_out_channels") ? c.IntList("block_out_channels", required: true) : [64];
        if (channels.Count == 0 || channels.Any(ch => ch <= 0))
            throw c.Unsupported("block_out_channels", Json(channels), "expected one positive channel count per stage");
        RequireStages(c, "down_block_types", DownBlock, channels.Count);
        RequireStages(c, "up_block_types", UpBlock, channels.Count);

        int groups = Positive(c, "norm_num_groups", 32);
        var indivisible = channels.FirstOrDefault(ch => ch % groups != 0);
        if (indivisible != 0)
            throw c.Unsupported("norm_num_groups", groups.ToString(CultureInfo.InvariantCulture),
                $"must divide every block_out_channels entry ({indivisible} is not a multiple)");

        return new VaeConfig
        {
            InChannels = Positive(c, "in_channels", 3),
            OutChannels = Positive(c, "out_channels", 3),
            BlockOutChannels = channels,
            LayersPerBlock = Positive(c, "layers_per_block", 1),
            LatentChannels = Positive(c, "latent_channels", 4),
            NormGroups = groups,
            SampleSize = c.Has("sample_size") ? c.SampleSize() : 32,
            ScalingFactor = ScalingFactor(c),
            ShiftFactor = c.Double("shift_factor"),
            ForceUpcast = c.Bool("force_upcast") ?? true,
            UseQuantConv = c.Bool("use_quant_conv") ?? true,
            UsePostQuantConv = c.Bool("use_post_quant_conv") ?? true,
            MidBlockAttention = c.Bool("mid_block_add_attention") ?? true,
        };
    }

    private static void RequireStages(ConfigReader c, string option, string type, int stages)
    {
        var types = c.Has(option) ? c.StringList(option, required: true) : [type];
        var other = types.FirstOrDefault(t => t != type);
        if (other != null) throw c.Unsupported(option, other, $"only {type} is implemented");
        if (types.Count != stages)
            throw c.Unsupported(option, Json(types), $"expected one entry per block_out_channels entry ({stages})");
    }

    private static double ScalingFactor(ConfigReader c)
    {
        double value = c.Double("scaling_factor") ?? 0.18215;
        return value > 0 && double.IsFinite(value) ? value
            : throw c.Unsupported("scaling_factor", value.ToString(CultureInfo.InvariantCulture), "expected a positive number (latents are divided by it)");
    }

    private static int Positive(ConfigReader c, string option, int fallback)
    {
        int value = c.Int(option) ?? fallback;
        return value > 0 ? value : throw c.Unsupported(option, value.ToString(CultureInfo.InvariantCulture), "expected a positive integer");
    }

    private static string Json<T>(IEnumerable<T> values) => JsonSerializer.Serialize(values);
}
