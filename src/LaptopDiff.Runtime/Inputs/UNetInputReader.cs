using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Inputs;

/// <summary>
/// Reads forward inputs from a safetensors file (<c>sample</c>, <c>timestep</c>,
/// <c>encoder_hidden_states</c>, and for text_time models <c>text_embeds</c>, <c>time_ids</c>) and
/// checks every shape against the layout before the model runs, naming the tensor that does not fit.
/// </summary>
public static class UNetInputReader
{
    public static UNetInputs Read(string path, UNetLayout layout)
    {
        var tensors = SafetensorsFile.Load(path);
        try
        {
            return Validate(tensors, layout, path);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>Checks names and shapes; floating tensors become float32. Disposes what it does not return.</summary>
    public static UNetInputs Validate(IReadOnlyDictionary<string, Tensor> tensors, UNetLayout layout, string source)
    {
        var spec = layout.Spec;
        var sample = Require(tensors, "sample", source);
        if (sample.dim() != 4 || sample.shape[1] != spec.InChannels)
            throw new InputException($"{source}: 'sample' must be [B,{spec.InChannels},H,W], found {Shapes.Format(sample.shape)}");
        long batch = sample.shape[0];
        long downFactor = 1L << layout.Spec.Down.Count(s => s.Resample);
        if (sample.shape[2] % downFactor != 0 || sample.shape[3] % downFactor != 0)
            throw new InputException($"{source}: 'sample' height and width must be multiples of {downFactor} (the model downsamples {downFactor}x), found {Shapes.Format(sample.shape)}");

        var timestep = Require(tensors, "timestep", source);
        if (!(timestep.dim() == 0 || (timestep.dim() == 1 && (timestep.shape[0] == batch || timestep.shape[0] == 1))))
            throw new InputException($"{source}: 'timestep' must be a scalar or [{batch}], found {Shapes.Format(timestep.shape)}");

        var context = Require(tensors, "encoder_hidden_states", source);
        if (context.dim() != 3 || context.shape[0] != batch || context.shape[2] != spec.CrossAttentionDim)
            throw new InputException($"{source}: 'encoder_hidden_states' must be [{batch},T,{spec.CrossAttentionDim}], found {Shapes.Format(context.shape)}");

        Tensor? textEmbeds = null, timeIds = null;
        if (spec.AdditionEmbedding is AdditionEmbeddingSpec add)
        {
            textEmbeds = Require(tensors, "text_embeds", source);
            if (textEmbeds.dim() != 2 || textEmbeds.shape[0] != batch || textEmbeds.shape[1] != add.TextEmbedDim)
                throw new InputException($"{source}: 'text_embeds' must be [{batch},{add.TextEmbedDim}], found {Shapes.Format(textEmbeds.shape)}");
            timeIds = Require(tensors, "time_ids", source);
            if (timeIds.dim() != 2 || timeIds.shape[0] != batch || timeIds.shape[1] != add.TimeIdCount)
                throw new InputException($"{source}: 'time_ids' must be [{batch},{add.TimeIdCount}], found {Shapes.Format(timeIds.shape)}");
        }

        return new UNetInputs(Float(sample), timestep.is_floating_point() ? Float(timestep) : timestep, Float(context),
            textEmbeds is null ? null : Float(textEmbeds), timeIds is null ? null : Float(timeIds));
    }

    private static Tensor Require(IReadOnlyDictionary<string, Tensor> tensors, string name, string source) =>
        tensors.TryGetValue(name, out var t) ? t
            : throw new InputException($"{source}: input tensor '{name}' is missing; found {string.Join(", ", tensors.Keys.Order())}");

    private static Tensor Float(Tensor t) => t.dtype == ScalarType.Float32 ? t : t.to_type(ScalarType.Float32);
}
