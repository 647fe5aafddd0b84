using System.Text.Json;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Calibration;

/// <summary>
/// A loaded calibration set (format: README.md in this folder): clean latents and their conditioning,
/// float32, checked against one U-Net layout. A set of class labels (<c>labels</c> instead of
/// <c>encoder_hidden_states</c>) is loaded with a <see cref="ClassConditioner"/> that turns the labels into
/// states. Sets made from captioned images also carry the captions' token ids, the empty prompt's states and the
/// captions themselves. Owns its tensors; dispose it.
/// </summary>
public sealed class CalibrationSet : IDisposable
{
    private CalibrationSet(string path, IReadOnlyList<string> files, string hash, IReadOnlyDictionary<string, string> metadata,
        Tensor latents, Tensor encoderHiddenStates, Tensor? labels, Tensor? textEmbeds, Tensor? timeIds, States? states,
        Tensor? inputIds, IReadOnlyList<string>? captions)
    {
        NoisyLatents = states?.NoisyLatents;
        Timesteps = states?.Timesteps;
        NegativeEncoderHiddenStates = states?.NegativeStates;
        NegativeTextEmbeds = states?.NegativeTextEmbeds;
        InputIds = inputIds;
        Captions = captions;
        Labels = labels;
        Path = path;
        Files = files;
        Hash = hash;
        Metadata = metadata;
        Latents = latents;
        EncoderHiddenStates = encoderHiddenStates;
        TextEmbeds = textEmbeds;
        TimeIds = timeIds;
    }

    /// <summary>The path the set was named by.</summary>
    public string Path { get; }
    /// <summary>Its files: one, or the shards in order.</summary>
    public IReadOnlyList<string> Files { get; }
    /// <summary>SHA-256 of the files' bytes in order (<see cref="FileDigest"/>): the set's identity.</summary>
    public string Hash { get; }
    /// <summary>The first file's <c>__metadata__</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>[N, C, H, W]</summary>
    public Tensor Latents { get; }
    /// <summary>[N, T, D]; for a labelled set, the conditioner's states of the labels (no dropout).</summary>
    public Tensor EncoderHiddenStates { get; }
    /// <summary>int64 [N], labelled sets only.</summary>
    public Tensor? Labels { get; }
    /// <summary>[N, P], text_time models only.</summary>
    public Tensor? TextEmbeds { get; }
    /// <summary>[N, 6], text_time models only.</summary>
    public Tensor? TimeIds { get; }
    /// <summary>int64 [N, T]: the captions' token ids, when the set has them.</summary>
    public Tensor? InputIds { get; }
    /// <summary>Each sample's caption, when every file lists them in its metadata.</summary>
    public IReadOnlyList<string>? Captions { get; }

    /// <summary>[N, C, H, W]: fixed U-Net inputs x_t at <see cref="Timesteps"/> (sets from a pipeline's trajectories or noised images); null when the sweep noises the latents itself.</summary>
    public Tensor? NoisyLatents { get; }
    /// <summary>int64 [N], with <see cref="NoisyLatents"/>.</summary>
    public Tensor? Timesteps { get; }
    /// <summary>[1, T, D]: the empty prompt's states, when the set carries them (caption dropout and guidance use them).</summary>
    public Tensor? NegativeEncoderHiddenStates { get; }
    /// <summary>[1, P]: the empty prompt's pooled embedding (text_time models), when the set carries it.</summary>
    public Tensor? NegativeTextEmbeds { get; }

    /// <summary><see cref="Timesteps"/> as integers, in sample order; null when the set has none.</summary>
    public IReadOnlyList<int>? StoredTimesteps => Timesteps?.data<long>().Select(t => (int)t).ToArray();

    public int Count => (int)Latents.shape[0];

    /// <summary>The optional tensors of format 2 (<see cref="CalibrationFormat.VersionWithStates"/>).</summary>
    private sealed record States(Tensor? NoisyLatents, Tensor? Timesteps, Tensor? NegativeStates, Tensor? NegativeTextEmbeds);

    /// <summary>
    /// Loads and checks a set (one file or shards) for <paramref name="layout"/>; problems are <see cref="InputException"/>s.
    /// A labelled set needs <paramref name="conditioner"/> (its states are computed once, without gradients).
    /// </summary>
    public static CalibrationSet Load(string path, UNetLayout layout, ClassConditioner? conditioner = null) =>
        LoadFiles(path, CalibrationShards.Resolve(path), layout, conditioner);

    /// <summary>
    /// <see cref="Load"/> of exactly <paramref name="files"/> (e.g. one shard of a set, for streaming); named
    /// <paramref name="path"/> in messages. <paramref name="hash"/>, when known, spares hashing the files again.
    /// </summary>
    public static CalibrationSet LoadFiles(string path, IReadOnlyList<string> files, UNetLayout layout, ClassConditioner? conditioner = null, string? hash = null)
    {
        var headers = files.Select(SafetensorsFile.ReadHeader).ToList();
        for (int i = 0; i < files.Count; i++) CheckHeader(headers[i], layout, files[i]);
        bool labelled = headers[0].Find(CalibrationFormat.Labels) != null;
        if (labelled && conditioner == null)
            throw new InputException($"calibration set '{path}' holds class 'labels' instead of 'encoder_hidden_states'; it needs a class conditioner to turn them into states",
                nameof(conditioner));
        if (labelled && conditioner!.Dim != layout.Spec.CrossAttentionDim)
            throw new InputException($"the class conditioner's width is {conditioner.Dim} but {layout.Spec.Name} has cross_attention_dim {layout.Spec.CrossAttentionDim}");
        hash ??= FileDigest.Sha256(files);

        var parts = new List<Dictionary<string, Tensor>>();
        try
        {
            foreach (var file in files)
            {
                var part = SafetensorsFile.Load(file, ScalarType.Float32);
                foreach (var t in part.Values) t.DetachFromDisposeScope();   // the set owns them, not the caller's scope
                parts.Add(part);
            }
            var tensors = parts.Count == 1 ? parts[0] : Concat(parts, files);
            if (parts.Count == 1) parts.Clear();                             // now owned by the set
            if (tensors.Remove(CalibrationFormat.Timesteps, out var rawTimesteps))
            {
                tensors[CalibrationFormat.Timesteps] = rawTimesteps.to_type(ScalarType.Int64).DetachFromDisposeScope();
                rawTimesteps.Dispose();
            }
            Tensor? labels = null;
            if (labelled)
            {
                var raw = tensors[CalibrationFormat.Labels];
                labels = raw.to_type(ScalarType.Int64).DetachFromDisposeScope();
                raw.Dispose();
                try { conditioner!.CheckLabels(labels, $"calibration set '{path}'"); }
                catch { labels.Dispose(); tensors[CalibrationFormat.Latents].Dispose(); throw; }
                using var noGrad = no_grad();
                tensors[CalibrationFormat.EncoderHiddenStates] = conditioner.forward(labels).DetachFromDisposeScope();
            }
            var captions = ReadCaptions(headers, files);
            var set = new CalibrationSet(path, files, hash, headers[0].Metadata,
                tensors[CalibrationFormat.Latents], tensors[CalibrationFormat.EncoderHiddenStates], labels,
                tensors.GetValueOrDefault(CalibrationFormat.TextEmbeds), tensors.GetValueOrDefault(CalibrationFormat.TimeIds),
                new States(tensors.GetValueOrDefault(CalibrationFormat.NoisyLatents), tensors.GetValueOrDefault(CalibrationFormat.Timesteps),
                    tensors.GetValueOrDefault(CalibrationFormat.NegativeEncoderHiddenStates), tensors.GetValueOrDefault(CalibrationFormat.NegativeTextEmbeds)),
                tensors.GetValueOrDefault(CalibrationFormat.InputIds), captions);
            set.CheckFinite();
            return set;
        }
        finally
        {
            foreach (var part in parts)
                foreach (var t in part.Values) t.Dispose();
        }
    }

    /// <summary>Views of samples [start, start + count) (no copy; contiguous along the batch).</summary>
    public (Tensor Latents, Tensor EncoderHiddenStates, Tensor? TextEmbeds, Tensor? TimeIds) Slice(int start, int count) =>
        (Latents.narrow(0, start, count), EncoderHiddenStates.narrow(0, start, count),
         TextEmbeds?.narrow(0, start, count), TimeIds?.narrow(0, start, count));

    public void Dispose()
    {
        Latents.Dispose();
        EncoderHiddenStates.Dispose();
        Labels?.Dispose();
        TextEmbeds?.Dispose();
        TimeIds?.Dispose();
        NoisyLatents?.Dispose();
        Timesteps?.Dispose();
        NegativeEncoderHiddenStates?.Dispose();
        NegativeTextEmbeds?.Dispose();
        InputIds?.Dispose();
    }

    /// <summary>Names, dtypes and shapes from the header, before any data is read.</summary>
    private static void CheckHeader(SafetensorsHeader header, UNetLayout layout, string file)
    {
        var spec = layout.Spec;
        var add = spec.AdditionEmbedding;
        if (header.Metadata.TryGetValue(CalibrationFormat.FormatKey, out var format) && format is not (CalibrationFormat.Version or CalibrationFormat.VersionWithStates))
            throw new InputException($"calibration file '{file}' has format '{format}'; this version reads '{CalibrationFormat.Version}' and '{CalibrationFormat.VersionWithStates}'");
        if (header.Find(CalibrationFormat.Images) != null && header.Find(CalibrationFormat.Latents) == null)
            throw new InputException($"calibration file '{file}' holds 'images'; this version needs 'latents' (encode the images with the model's VAE first)");

        bool labelled = header.Find(CalibrationFormat.Labels) != null;
        if (labelled && header.Find(CalibrationFormat.EncoderHiddenStates) != null)
            throw new InputException($"calibration file '{file}' holds both 'labels' and 'encoder_hidden_states'; a set has one kind of conditioning");
        var expected = new List<string> { CalibrationFormat.Latents, labelled ? CalibrationFormat.Labels : CalibrationFormat.EncoderHiddenStates };
        if (add != null) expected.AddRange(new[] { CalibrationFormat.TextEmbeds, CalibrationFormat.TimeIds });
        var optional = new List<string> { CalibrationFormat.NoisyLatents, CalibrationFormat.Timesteps, CalibrationFormat.NegativeEncoderHiddenStates };
        if (!labelled) optional.Add(CalibrationFormat.InputIds);
        if (add != null) optional.Add(CalibrationFormat.NegativeTextEmbeds);
        foreach (var e in header.Entries)
        {
            if (e.Name == CalibrationFormat.Timesteps)
            {
                if (e.DType != ScalarType.Int64)
                    throw new InputException($"calibration file '{file}': 'timesteps' is {SafetensorsDType.NameOf(e.DType)}; it must be I64");
                continue;
            }
            if (!expected.Contains(e.Name) && !optional.Contains(e.Name))
                throw new InputException($"calibration file '{file}': unexpected tensor '{e.Name}'" +
                    (add == null && e.Name is CalibrationFormat.TextEmbeds or CalibrationFormat.TimeIds ? $" ({spec.Name} has no text_time embedding; is this an SDXL set?)" : "") +
                    $"; {spec.Name} takes {string.Join(", ", expected)} (optionally {string.Join(", ", optional)})");
            if (e.Name == CalibrationFormat.Labels)
            {
                if (e.DType is not (ScalarType.Int64 or ScalarType.Byte))
                    throw new InputException($"calibration file '{file}': 'labels' is {SafetensorsDType.NameOf(e.DType)}; it must be I64 or U8");
            }
            else if (e.Name == CalibrationFormat.InputIds)
            {
                if (e.DType != ScalarType.Int64)
                    throw new InputException($"calibration file '{file}': 'input_ids' is {SafetensorsDType.NameOf(e.DType)}; it must be I64");
            }
            else if (!is_floating_point(e.DType))
                throw new InputException($"calibration file '{file}': '{e.Name}' is {SafetensorsDType.NameOf(e.DType)}; it must be a float tensor");
        }
        foreach (var name in expected)
            if (header.Find(name) == null)
                throw new InputException($"calibration file '{file}': tensor '{name}' is missing; {spec.Name} takes {string.Join(", ", expected)}");

        var latents = header.Find(CalibrationFormat.Latents)!.Shape;
        long n = latents.Count > 0 ? latents[0] : 0;
        long down = 1L << spec.Down.Count(s => s.Resample);
        if (latents.Count != 4 || latents[1] != spec.InChannels || n < 1 || latents[2] % down != 0 || latents[3] % down != 0 || latents[2] < 1 || latents[3] < 1)
            throw new InputException($"calibration file '{file}': 'latents' must be [N,{spec.InChannels},H,W] with N >= 1 and H, W multiples of {down} " +
                                     $"(the model downsamples {down}x), found {Shapes.Format(latents)}");
        if (labelled)
        {
            var labels = header.Find(CalibrationFormat.Labels)!.Shape;
            if (labels.Count != 1 || labels[0] != n)
                throw new InputException($"calibration file '{file}': 'labels' must be [{n}] (N from 'latents'), found {Shapes.Format(labels)}");
        }
        else
        {
            ExpectShape(header, file, CalibrationFormat.EncoderHiddenStates, n, spec.CrossAttentionDim, 3, $"[{n},T,{spec.CrossAttentionDim}]");
            long tokens = header.Find(CalibrationFormat.EncoderHiddenStates)!.Shape[1];
            if (header.Find(CalibrationFormat.InputIds) is { } ids && (ids.Shape.Count != 2 || ids.Shape[0] != n || ids.Shape[1] < 1))
                throw new InputException($"calibration file '{file}': 'input_ids' must be [{n},T] (N from 'latents'), found {Shapes.Format(ids.Shape)}");
            if (header.Find(CalibrationFormat.NegativeEncoderHiddenStates) is { } negative
                && !negative.Shape.SequenceEqual(new[] { 1L, tokens, spec.CrossAttentionDim }))
                throw new InputException($"calibration file '{file}': 'negative_encoder_hidden_states' must be [1,{tokens},{spec.CrossAttentionDim}] " +
                                         $"(the empty prompt's states, shaped like one sample's), found {Shapes.Format(negative.Shape)}");
        }
        if (add != null)
        {
            ExpectShape(header, file, CalibrationFormat.TextEmbeds, n, add.TextEmbedDim, 2, $"[{n},{add.TextEmbedDim}]");
            ExpectShape(header, file, CalibrationFormat.TimeIds, n, add.TimeIdCount, 2, $"[{n},{add.TimeIdCount}]");
        }
        CheckStates(header, file, latents, spec);
    }

    /// <summary>Format 2's optional tensors: noisy latents and timesteps go together; the empty prompt's conditioning is one row.</summary>
    private static void CheckStates(SafetensorsHeader header, string file, IReadOnlyList<long> latents, UNetSpec spec)
    {
        var noisy = header.Find(CalibrationFormat.NoisyLatents);
        var timesteps = header.Find(CalibrationFormat.Timesteps);
        if ((noisy is null) != (timesteps is null))
            throw new InputException($"calibration file '{file}': '{CalibrationFormat.NoisyLatents}' and '{CalibrationFormat.Timesteps}' go together (x_t and its timestep); " +
                                     $"it has only '{(noisy ?? timesteps)!.Name}'");
        if (noisy != null && !noisy.Shape.SequenceEqual(latents))
            throw new InputException($"calibration file '{file}': '{CalibrationFormat.NoisyLatents}' must have the shape of 'latents' {Shapes.Format(latents)}, found {Shapes.Format(noisy.Shape)}");
        if (timesteps != null && (timesteps.Shape.Count != 1 || timesteps.Shape[0] != latents[0]))
            throw new InputException($"calibration file '{file}': '{CalibrationFormat.Timesteps}' must be [{latents[0]}] (N from 'latents'), found {Shapes.Format(timesteps.Shape)}");
        if (header.Find(CalibrationFormat.NegativeEncoderHiddenStates) != null)
            ExpectShape(header, file, CalibrationFormat.NegativeEncoderHiddenStates, 1, spec.CrossAttentionDim, 3, $"[1,T,{spec.CrossAttentionDim}]");
        if (spec.AdditionEmbedding is { } add && header.Find(CalibrationFormat.NegativeTextEmbeds) != null)
            ExpectShape(header, file, CalibrationFormat.NegativeTextEmbeds, 1, add.TextEmbedDim, 2, $"[1,{add.TextEmbedDim}]");
    }

    /// <summary>A [n, ..., last] tensor of the given rank.</summary>
    private static void ExpectShape(SafetensorsHeader header, string file, string name, long n, long last, int rank, string expected)
    {
        var shape = header.Find(name)!.Shape;
        if (shape.Count != rank || shape[0] != n || shape[rank - 1] != last || shape.Any(d => d < 1))
            throw new InputException($"calibration file '{file}': '{name}' must be {expected}{(n == 1 ? "" : " (N from 'latents')")}, found {Shapes.Format(shape)}");
    }

    /// <summary>Shards joined along the sample axis; their per-sample shapes must agree. Every shard must hold the same tensors.</summary>
    private static Dictionary<string, Tensor> Concat(List<Dictionary<string, Tensor>> parts, IReadOnlyList<string> files)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 1; i < parts.Count; i++)
            if (!parts[i].Keys.Order(StringComparer.Ordinal).SequenceEqual(parts[0].Keys.Order(StringComparer.Ordinal)))
                throw new InputException($"calibration shards disagree: '{files[0]}' holds {string.Join(", ", parts[0].Keys)} but '{files[i]}' holds {string.Join(", ", parts[i].Keys)}");
        foreach (var name in parts[0].Keys)
        {
            if (name is CalibrationFormat.NegativeEncoderHiddenStates or CalibrationFormat.NegativeTextEmbeds)
            {
                result[name] = parts[0][name].clone().DetachFromDisposeScope();   // the same in every shard
                continue;
            }
            for (int i = 1; i < parts.Count; i++)
                if (!parts[i][name].shape.Skip(1).SequenceEqual(parts[0][name].shape.Skip(1)))
                    throw new InputException($"calibration shards disagree: '{name}' is {Shapes.Format(parts[0][name].shape)} in '{files[0]}' " +
                                             $"but {Shapes.Format(parts[i][name].shape)} in '{files[i]}'");
            result[name] = cat(parts.Select(p => p[name]).ToArray(), 0).DetachFromDisposeScope();   // the parts are disposed by the caller
        }
        return result;
    }

    /// <summary>The captions of every file's metadata joined in order, or null when a file lists none.</summary>
    private static IReadOnlyList<string>? ReadCaptions(IReadOnlyList<SafetensorsHeader> headers, IReadOnlyList<string> files)
    {
        var all = new List<string>();
        for (int i = 0; i < headers.Count; i++)
        {
            if (!headers[i].Metadata.TryGetValue(CalibrationFormat.CaptionsKey, out var json)) return null;
            long n = headers[i].Find(CalibrationFormat.Latents)!.Shape[0];
            List<string>? captions;
            try { captions = JsonSerializer.Deserialize<List<string>>(json); }
            catch (JsonException e) { throw new InputException($"calibration file '{files[i]}': metadata '{CalibrationFormat.CaptionsKey}' is not a JSON array of strings ({e.Message})"); }
            if (captions is null || captions.Count != n)
                throw new InputException($"calibration file '{files[i]}': metadata '{CalibrationFormat.CaptionsKey}' lists {captions?.Count ?? 0} captions for {n} samples");
            all.AddRange(captions);
        }
        return all;
    }

    private void CheckFinite()
    {
        foreach (var (name, t) in new[] { (CalibrationFormat.Latents, Latents), (CalibrationFormat.EncoderHiddenStates, EncoderHiddenStates),
                     (CalibrationFormat.TextEmbeds, TextEmbeds), (CalibrationFormat.TimeIds, TimeIds), (CalibrationFormat.NoisyLatents, NoisyLatents),
                     (CalibrationFormat.NegativeEncoderHiddenStates, NegativeEncoderHiddenStates), (CalibrationFormat.NegativeTextEmbeds, NegativeTextEmbeds) })
        {
            if (t is null) continue;
            using var finite = isfinite(t).all();
            if (!finite.item<bool>())
            {
                Dispose();
                throw new InputException($"calibration set '{Path}': '{name}' contains NaN or infinite values");
            }
        }
    }
}
