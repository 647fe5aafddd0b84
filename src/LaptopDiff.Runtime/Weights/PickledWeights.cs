namespace LaptopDiff.Runtime.Weights;

/// <summary>
/// PyTorch's pickled weight files. They are recognised by name only and refused: unpickling runs whatever code
/// the file carries, so no LaptopDiff path ever opens one.
/// </summary>
public static class PickledWeights
{
    private static readonly string[] Extensions = [".bin", ".ckpt", ".pt", ".pth", ".pkl"];

    public const string Advice =
        "LaptopDiff never unpickles weights (.bin, .ckpt, .pt, .pth): loading a pickle can run arbitrary code. " +
        "Convert them to safetensors outside LaptopDiff (in Python: `safetensors.torch.save_file(torch.load(path, weights_only=True), " +
        "'model.safetensors')`, or a diffusers pipeline's `save_pretrained(dir, safe_serialization=True)`), or download the " +
        ".safetensors files the model's publisher provides.";

    public static bool IsPickled(string fileName) =>
        Extensions.Any(e => fileName.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>The refusal for <paramref name="what"/> (a folder, a component) whose only weights are <paramref name="files"/>.</summary>
    public static WeightsException Refusal(string what, IEnumerable<string> files) =>
        new($"{what} holds only pickled weights ({string.Join(", ", files)}). {Advice}");
}
