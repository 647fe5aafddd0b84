using System.Text.Json;
using LaptopDiff.Runtime.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Weights;

/// <summary>Sharded checkpoints (<c>*.safetensors.index.json</c> + shards): loading across shards, and broken indexes.</summary>
public sealed class ShardedWeightsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private const string Base = ComponentWeights.DiffusersBaseName;
    private const string Index = "diffusion_pytorch_model.safetensors.index.json";
    private static string Shard(int i) => $"diffusion_pytorch_model-0000{i}-of-00003.safetensors";

    /// <summary>Keys l0.weight [4,3], l0.bias [4], l1.weight [2,4], l1.bias [2], l2.weight [1,2], l2.bias [1].</summary>
    private static Sequential Model() => nn.Sequential(("l0", nn.Linear(3, 4)), ("l1", nn.Linear(4, 2)), ("l2", nn.Linear(2, 1)));

    /// <summary>Shard i holds layer i-1, in F16, BF16 and F32; returns the tensors written.</summary>
    private Dictionary<string, Tensor> WriteShards()
    {
        var source = Model().state_dict();
        var dtypes = new[] { ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float32 };
        var written = new Dictionary<string, Tensor>();
        for (int i = 1; i <= 3; i++)
        {
            var tensors = source.Where(t => t.Key.StartsWith($"l{i - 1}.")).Select(t => KeyValuePair.Create(t.Key, t.Value.detach().to_type(dtypes[i - 1]))).ToList();
            SafetensorsFile.Save(_folder.File(Shard(i)), tensors);
            foreach (var (k, v) in tensors) written[k] = v;
        }
        return written;
    }

    private void WriteIndex(IEnumerable<(string Key, string Shard)> map, string name = Index) =>
        File.WriteAllText(_folder.File(name), "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {" +
                                              string.Join(", ", map.Select(p => $"{JsonSerializer.Serialize(p.Key)}: {JsonSerializer.Serialize(p.Shard)}")) + "}}");

    private static (string, string)[] TrueMap() =>
    [
        ("l0.bias", Shard(1)), ("l0.weight", Shard(1)), ("l1.bias", Shard(2)), ("l1.weight", Shard(2)), ("l2.bias", Shard(3)), ("l2.weight", Shard(3)),
    ];

    private WeightsException Broken() => Assert.Throws<WeightsException>(() => ComponentWeights.Resolve(_folder.Path, Base));

    [Fact]
    public void Three_shards_of_mixed_dtypes_load_strictly_into_float32()
    {
        var written = WriteShards();
        WriteIndex(TrueMap());

        var weights = ComponentWeights.Resolve(_folder.Path, Base);
        var model = Model();
        var report = WeightLoader.Load(model, weights);

        Assert.True(weights.Files!.IsSharded);
        Assert.Equal(_folder.File(Index), weights.Files.Path);
        Assert.Equal([Shard(1), Shard(2), Shard(3)], weights.Files.Files.Select(f => Path.GetFileName(f.Path)));
        Assert.Equal(new Dictionary<string, int> { ["BF16"] = 2, ["F16"] = 2, ["F32"] = 2 }, weights.DTypes);
        Assert.Equal(6, report.Matched);
        foreach (var (key, value) in model.state_dict())
        {
            Assert.Equal(ScalarType.Float32, value.dtype);
            TensorAssert.BitwiseEqual(written[key].to_type(ScalarType.Float32), value, key);
        }
    }

    [Theory]
    [InlineData("diffusion_pytorch_model.safetensors.index.fp16.json")]
    [InlineData("diffusion_pytorch_model.safetensors.fp16.index.json")]   // older diffusers' variant index name
    public void A_sharded_variant_is_found_by_its_index(string indexName)
    {
        WriteShards();
        WriteIndex(TrueMap(), indexName);

        var weights = ComponentWeights.Resolve(_folder.Path, Base, "fp16");

        Assert.Equal(_folder.File(indexName), weights.Files!.Path);
        Assert.Equal(6, weights.Files.Entries.Count);
        var none = Assert.Throws<WeightsException>(() => ComponentWeights.Resolve(_folder.Path, Base));
        Assert.Contains("Ask for the variant 'fp16' to use those.", none.Message);
    }

    [Fact]
    public void A_missing_shard_is_named()
    {
        WriteShards();
        WriteIndex(TrueMap());
        File.Delete(_folder.File(Shard(2)));

        Assert.Equal($"sharded weights index '{_folder.File(Index)}' maps 2 tensors (first 'l1.bias') to shard '{Shard(2)}', " +
                     $"which does not exist in '{_folder.Path}'. Download the missing shard.", Broken().Message);
    }

    [Fact]
    public void A_tensor_in_another_shard_than_the_map_says_is_named()
    {
        WriteShards();
        WriteIndex(TrueMap().Select(p => p.Item1 == "l1.bias" ? (p.Item1, Shard(3)) : p));

        Assert.StartsWith($"sharded weights index '{_folder.File(Index)}' maps tensor 'l1.bias' to shard '{Shard(3)}', but it is in shard '{Shard(2)}'.", Broken().Message);
    }

    [Fact]
    public void A_tensor_listed_twice_in_the_map_is_named()
    {
        WriteShards();
        WriteIndex([.. TrueMap(), ("l0.weight", Shard(2))]);

        Assert.StartsWith($"sharded weights index '{_folder.File(Index)}' lists tensor 'l0.weight' twice in its weight_map.", Broken().Message);
    }

    [Fact]
    public void A_tensor_stored_in_two_shards_is_named()
    {
        WriteShards();
        SafetensorsFile.Save(_folder.File(Shard(3)), [KeyValuePair.Create("l2.weight", zeros(1, 2)), KeyValuePair.Create("l2.bias", zeros(1)), KeyValuePair.Create("l0.bias", zeros(4))]);
        WriteIndex(TrueMap());

        Assert.StartsWith($"sharded weights '{_folder.File(Index)}': tensor 'l0.bias' is stored twice, in '{Shard(1)}' and in '{Shard(3)}'", Broken().Message);
    }

    [Fact]
    public void Tensors_the_map_and_the_shards_disagree_on_are_named()
    {
        WriteShards();
        WriteIndex([.. TrueMap(), ("l3.weight", Shard(3))]);
        Assert.StartsWith($"sharded weights index '{_folder.File(Index)}' maps tensor 'l3.weight' to shard '{Shard(3)}', but no shard holds it.", Broken().Message);

        WriteIndex(TrueMap().Where(p => p.Item1 != "l2.bias"));
        Assert.StartsWith($"shard '{Shard(3)}' holds tensor 'l2.bias', which the weight_map of '{_folder.File(Index)}' does not list.", Broken().Message);
    }

    [Fact]
    public void A_mapped_tensor_the_module_lacks_fails_the_strict_load_naming_the_index()
    {
        WriteShards();
        SafetensorsFile.Save(_folder.File(Shard(3)), [KeyValuePair.Create("l2.weight", zeros(1, 2)), KeyValuePair.Create("l2.bias", zeros(1)), KeyValuePair.Create("extra.weight", zeros(5))]);
        WriteIndex([.. TrueMap(), ("extra.weight", Shard(3))]);
        var model = Model();
        using var before = model.state_dict()["l0.weight"].clone();

        var error = Assert.Throws<WeightsException>(() => WeightLoader.Load(model, ComponentWeights.Resolve(_folder.Path, Base)));

        Assert.StartsWith($"weights file '{_folder.File(Index)}' does not match the model: 0 missing, 1 unexpected, 0 mis-shaped keys.", error.Message);
        Assert.Contains("extra.weight [5]", error.Message);
        TensorAssert.BitwiseEqual(before, model.state_dict()["l0.weight"], "l0.weight");
    }

    [Fact]
    public void Malformed_indexes_are_named()
    {
        WriteShards();
        File.WriteAllText(_folder.File(Index), "{\"weight_map\": {\"l0.weight\": ");
        Assert.StartsWith($"sharded weights index '{_folder.File(Index)}' is not valid JSON (", Broken().Message);

        File.WriteAllText(_folder.File(Index), "{\"metadata\": {}}");
        Assert.Equal($"sharded weights index '{_folder.File(Index)}' has no \"weight_map\" object of tensor names to shard files.", Broken().Message);

        WriteIndex([("l0.weight", "../" + Shard(1))]);
        Assert.Equal($"sharded weights index '{_folder.File(Index)}' names shard '../{Shard(1)}', which is not a plain file name; shards must lie beside the index.", Broken().Message);

        WriteIndex([("l0.weight", "diffusion_pytorch_model-00001-of-00003.bin")]);
        Assert.Contains("names shard 'diffusion_pytorch_model-00001-of-00003.bin', which is not a .safetensors file. LaptopDiff never unpickles weights", Broken().Message);
    }
}
