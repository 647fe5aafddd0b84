using System.Text.Json;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Inputs;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// transformers' <c>CLIPImageProcessor</c> settings (<c>preprocessor_config.json</c>) applied to float images
/// in [0, 1] the way the torch path computes them (torchvision's resize and centre crop, as openai/CLIP's
/// own preprocessing and transformers' fast processor do): the shortest edge resized to
/// <c>size.shortest_edge</c> (the other to <c>int(edge * long / short)</c>) with antialiased bicubic
/// interpolation (PyTorch's, which is PIL's filter), a centre crop of <c>crop_size</c> whose offsets round
/// half to even, then <c>(x - image_mean) / image_std</c> per channel. (transformers' PIL-based processor
/// resizes 8-bit images and floors the crop offsets: a few 1/255 steps apart.)
/// </summary>
public sealed class ClipImagePreprocessor
{
    public const string ConfigFile = "preprocessor_config.json";
    private const int Bicubic = 3;                                                   // PIL.Image.BICUBIC
    private static readonly double[] OpenAiMean = [0.48145466, 0.4578275, 0.40821073];
    private static readonly double[] OpenAiStd = [0.26862954, 0.26130258, 0.27577711];

    private ClipImagePreprocessor(int? shortestEdge, (int Height, int Width)? resizeTo, (int Height, int Width)? crop, double[]? mean, double[]? std)
    {
        ShortestEdge = shortestEdge;
        ResizeTo = resizeTo;
        Crop = crop;
        Mean = mean;
        Std = std;
    }

    /// <summary>Resize keeping the aspect ratio so the shortest edge has this length; null when not.</summary>
    public int? ShortestEdge { get; }
    /// <summary>Resize to exactly this size (configs that give <c>size</c> as height and width); null when not.</summary>
    public (int Height, int Width)? ResizeTo { get; }
    public (int Height, int Width)? Crop { get; }
    public double[]? Mean { get; }
    public double[]? Std { get; }

    public static ClipImagePreprocessor Load(string folder)
    {
        var path = Path.Combine(folder, ConfigFile);
        var root = ClipConfigFile.Read(path);
        var config = new ConfigReader(root, path);
        int? shortest = null;
        (int, int)? resizeTo = null;
        if (config.Bool("do_resize") ?? true)
        {
            if (!root.TryGetProperty("size", out var size)) shortest = 224;
            else if (size.ValueKind == JsonValueKind.Number) shortest = ClipConfigFile.Positive(config, "size", 224);
            else if (size.ValueKind == JsonValueKind.Object && size.TryGetProperty("shortest_edge", out _))
                shortest = ClipConfigFile.Positive(new ConfigReader(size, path), "shortest_edge", 224);
            else resizeTo = HeightWidth(root, config, "size", path);
            int resample = config.Int("resample") ?? Bicubic;
            if (resample != Bicubic) throw config.Unsupported("resample", resample.ToString(), "only 3 (bicubic, CLIP's) is implemented");
        }
        (int Height, int Width)? crop = (config.Bool("do_center_crop") ?? true) ? HeightWidth(root, config, "crop_size", path) ?? (224, 224) : null;
        if (crop is { } c && shortest is { } s && (c.Height > s || c.Width > s))
            throw config.Unsupported("crop_size", $"{c.Height}x{c.Width}", $"larger than the resized shortest edge {s} (the image would need padding)");
        if (config.Bool("do_rescale") == false)
            throw config.Unsupported("do_rescale", "false", "images are taken in [0, 1], i.e. already rescaled by 1/255");
        double[]? mean = null, std = null;
        if (config.Bool("do_normalize") ?? true)
        {
            mean = Triple(root, config, "image_mean") ?? OpenAiMean;
            std = Triple(root, config, "image_std") ?? OpenAiStd;
            if (std.Any(v => v <= 0)) throw config.Unsupported("image_std", string.Join(",", std), "must be positive");
        }
        return new ClipImagePreprocessor(shortest, resizeTo, crop, mean, std);
    }

    /// <summary>Images [N,3,H,W] float in [0, 1] -> pixel values [N,3,crop height,crop width] float32.</summary>
    public Tensor Preprocess(Tensor images01)
    {
        if (images01.dim() != 4 || images01.shape[1] != 3 || !is_floating_point(images01))
            throw new InputException($"images must be float [N, 3, H, W] in [0, 1]; got {images01.dtype} [{string.Join(",", images01.shape)}].");
        using var scope = NewDisposeScope();
        var x = images01.to_type(ScalarType.Float32);
        if (x.numel() > 0 && (x.min().item<float>() < 0f || x.max().item<float>() > 1f))
            throw new InputException("images must lie in [0, 1] (decoded 8-bit images divided by 255, or a pipeline's output).");
        if (OutputSize(x.shape[2], x.shape[3]) is { } size)
            x = nn.functional.interpolate(x, size: [size.Height, size.Width], mode: InterpolationMode.Bicubic, align_corners: false, antialias: true);
        if (Crop is { } crop) x = CenterCrop(x, crop.Height, crop.Width);
        if (Mean is { } mean && Std is { } std)
        {
            var m = tensor(mean.Select(v => (float)v).ToArray(), device: x.device).view(1, 3, 1, 1);
            var s = tensor(std.Select(v => (float)v).ToArray(), device: x.device).view(1, 3, 1, 1);
            x = (x - m) / s;
        }
        return x.contiguous().MoveToOuterDisposeScope();
    }

    private (long Height, long Width)? OutputSize(long height, long width)
    {
        if (ResizeTo is { } exact) return (exact.Height, exact.Width);
        if (ShortestEdge is not { } edge) return null;
        // torchvision: the short side becomes edge, the long side int(edge * long / short) (Python float, truncated).
        return height <= width ? (edge, (long)(edge * (double)width / height)) : ((long)(edge * (double)height / width), edge);
    }

    private static Tensor CenterCrop(Tensor x, int height, int width)
    {
        long h = x.shape[2], w = x.shape[3];
        if (height > h || width > w)
            throw new InputException($"images of {h}x{w} after resizing are smaller than the {height}x{width} crop.");
        long top = (long)Math.Round((h - height) / 2.0, MidpointRounding.ToEven);   // torchvision's int(round(...))
        long left = (long)Math.Round((w - width) / 2.0, MidpointRounding.ToEven);
        return x.narrow(2, top, height).narrow(3, left, width);
    }

    private static (int, int)? HeightWidth(JsonElement root, ConfigReader config, string key, string path)
    {
        if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number) { int n = ClipConfigFile.Positive(config, key, 0); return (n, n); }
        if (v.ValueKind != JsonValueKind.Object || !v.TryGetProperty("height", out _) || !v.TryGetProperty("width", out _))
            throw config.Unsupported(key, v.GetRawText(), "expected an integer or {\"height\", \"width\"}");
        var inner = new ConfigReader(v, path);
        return (ClipConfigFile.Positive(inner, "height", 0), ClipConfigFile.Positive(inner, "width", 0));
    }

    private static double[]? Triple(JsonElement root, ConfigReader config, string key)
    {
        if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 3 || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number))
            throw config.Unsupported(key, v.GetRawText(), "expected three numbers (R, G, B)");
        return v.EnumerateArray().Select(e => e.GetDouble()).ToArray();
    }
}
