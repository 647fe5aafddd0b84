using LaptopDiff.Runtime.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Weights;

public sealed class SafetensorsRoundTripTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<ScalarType> DTypes => new()
    {
        ScalarType.Float32, ScalarType.Float64, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64,
        ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    };

    private static readonly long[][] Shapes = [[], [0], [3, 0, 2], [5], [2, 3, 4], [7, 1]];

    private static Tensor Random(ScalarType dtype, long[] shape, Generator generator) => dtype switch
    {
        ScalarType.Bool => randint(0, 2, shape, generator: generator).to_type(dtype),
        ScalarType.Byte => randint(0, 256, shape, generator: generator).to_type(dtype),
        _ when is_floating_point(dtype) => (randn(shape, generator: generator) * 100).to_type(dtype),
        _ => randint(-100, 100, shape, generator: generator).to_type(dtype),
    };

    [Theory]
    [MemberData(nameof(DTypes))]
    public void Round_trip_keeps_dtype_shape_and_bits(ScalarType dtype)
    {
        var generator = new Generator(42);
        var tensors = Shapes.Select((s, i) => KeyValuePair.Create($"t{i}.{string.Join("x", s)}", Random(dtype, s, generator))).ToList();
        var path = _folder.File("round.safetensors");

        SafetensorsFile.Save(path, tensors);
        var loaded = SafetensorsFile.Load(path);

        Assert.Equal(tensors.Select(t => t.Key), loaded.Keys);
        foreach (var (name, tensor) in tensors) TensorAssert.BitwiseEqual(tensor, loaded[name], name);
    }

    [Fact]
    public void Mixed_dtypes_keep_given_order_metadata_and_aligned_header()
    {
        var tensors = new[]
        {
            KeyValuePair.Create("z.half", tensor(new[] { 1.5f, -2f, 3f }).to_type(ScalarType.Float16)),
            KeyValuePair.Create("a.long", tensor(new long[] { long.MinValue, 0, long.MaxValue })),
            KeyValuePair.Create("m.flag", tensor(new[] { true, false, true })),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["spec"] = "unet: {name: tiny}\n" };
        var path = _folder.File("mixed.safetensors");

        SafetensorsFile.Save(path, tensors, metadata);
        var header = SafetensorsFile.ReadHeader(path);

        Assert.Equal(["z.half", "a.long", "m.flag"], header.Entries.Select(e => e.Name));
        Assert.Equal(metadata, header.Metadata);
        Assert.Equal(0, header.DataStart % 8);
        Assert.Equal(ScalarType.Float16, header.Entries[0].DType);
        Assert.Equal(new long[] { long.MinValue, 0, long.MaxValue }, SafetensorsFile.Load(path)["a.long"].data<long>().ToArray());
    }

    [Fact]
    public void Non_contiguous_tensors_are_written_in_logical_order()
    {
        var matrix = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        var path = _folder.File("t.safetensors");

        SafetensorsFile.Save(path, [KeyValuePair.Create("t", matrix.t())]);

        Assert.Equal(new[] { 0f, 3f, 1f, 4f, 2f, 5f }, SafetensorsFile.Load(path)["t"].data<float>().ToArray());
    }

    [Fact]
    public void Convert_floats_to_changes_floating_tensors_only()
    {
        var path = _folder.File("c.safetensors");
        SafetensorsFile.Save(path, [
            KeyValuePair.Create("h", tensor(new[] { 0.5f, -1.25f }).to_type(ScalarType.BFloat16)),
            KeyValuePair.Create("d", tensor(new[] { 0.1 })),
            KeyValuePair.Create("i", tensor(new[] { 7L })),
        ]);

        var loaded = SafetensorsFile.Load(path, convertFloatsTo: ScalarType.Float32);

        Assert.Equal(ScalarType.Float32, loaded["h"].dtype);
        Assert.Equal(new[] { 0.5f, -1.25f }, loaded["h"].data<float>().ToArray());
        Assert.Equal((float)0.1, loaded["d"].item<float>());
        Assert.Equal(ScalarType.Int64, loaded["i"].dtype);
    }

    [Fact]
    public void Files_we_write_read_back_in_TorchSharp_PyBridge()
    {
        var weights = randn(4, 3, generator: new Generator(1));
        var path = _folder.File("p.safetensors");
        SafetensorsFile.Save(path, [KeyValuePair.Create("w", weights)], new Dictionary<string, string> { ["format"] = "pt" });

        var theirs = TorchSharp.PyBridge.Safetensors.LoadStateDict(path);

        TensorAssert.BitwiseEqual(weights, theirs["w"]);
    }
}
