using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Weights;

/// <summary>Every malformed file is one clear <see cref="WeightsException"/> naming the file and the problem.</summary>
public sealed class SafetensorsCorruptFileTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static string Tensor(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    private WeightsException Fails(string headerJson, int dataBytes, ulong? lengthField = null)
    {
        var path = RawSafetensors.Write(_folder.File("bad.safetensors"), headerJson, dataBytes, lengthField);
        var error = Assert.Throws<WeightsException>(() => SafetensorsFile.ReadHeader(path));
        Assert.Contains(path, error.Message);
        // Loading goes through the same validation.
        Assert.Equal(error.Message, Assert.Throws<WeightsException>(() => SafetensorsFile.Load(path)).Message);
        return error;
    }

    [Fact]
    public void A_valid_hand_made_file_passes() =>
        Assert.Equal(2, SafetensorsFile.ReadHeader(RawSafetensors.Write(_folder.File("ok.safetensors"),
            "{" + Tensor("a", "F32", "[2]", 0, 8) + "," + Tensor("b", "U8", "[]", 8, 9) + "}", 9)).Entries.Count);

    [Fact]
    public void Data_offsets_beyond_the_file()
    {
        var error = Fails("{" + Tensor("w", "F32", "[250]", 0, 1000) + "}", 24);
        Assert.Contains("'w'", error.Message);
        Assert.Contains("beyond the end of the data buffer (24 bytes", error.Message);
    }

    [Fact]
    public void Overlapping_data_offsets()
    {
        var error = Fails("{" + Tensor("a", "F32", "[2]", 0, 8) + "," + Tensor("b", "F32", "[2]", 4, 12) + "}", 12);
        Assert.Contains("'a' [0,8] and 'b' [4,12] overlap", error.Message);
    }

    [Fact]
    public void Dtype_times_shape_differs_from_byte_length()
    {
        var error = Fails("{" + Tensor("w", "F32", "[2,3]", 0, 20) + "}", 20);
        Assert.Contains("'w' is F32 [2,3], which needs 24 bytes", error.Message);
        Assert.Contains("span 20 bytes", error.Message);
    }

    [Fact]
    public void Header_length_larger_than_the_file()
    {
        var error = Fails("{}", 0, lengthField: 1000);
        Assert.Contains("header length field says 1000 bytes but only 2 bytes follow", error.Message);
    }

    [Fact]
    public void Header_length_that_is_not_a_plausible_size() =>
        Assert.Contains("header length field says 18446744073709551615", Fails("{}", 0, lengthField: ulong.MaxValue).Message);

    [Theory]
    [InlineData("{\"w\": {\"dtype\": \"F32\"")]
    [InlineData("not json at all")]
    [InlineData("")]
    public void Invalid_json_header(string header) =>
        Assert.Contains("header is not valid JSON", Fails(header, 0).Message);

    [Fact]
    public void Unknown_dtype_names_the_key_and_the_supported_dtypes()
    {
        var error = Fails("{" + Tensor("w", "Q4_K", "[2]", 0, 1) + "}", 1);
        Assert.Contains("tensor 'w' has dtype 'Q4_K'", error.Message);
        Assert.Contains("F32, F16, BF16", error.Message);
    }

    [Theory]
    [InlineData("[1,2]", "header is a JSON array")]
    [InlineData("{\"w\": 3}", "tensor 'w' is a JSON number")]
    [InlineData("{\"w\": {\"shape\": [1], \"data_offsets\": [0,4]}}", "'w' has no string 'dtype'")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0,4]}}", "'w' has no 'shape' array")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0,4]}}", "'w' has 'shape' [-1]")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0,4]}}", "'w' has 'shape' [1.5]")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", "expected an array of 2 non-negative integers")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4,0]}}", "end before they begin")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0,4]}}", "too large")]
    [InlineData("{\"__metadata__\": {\"epoch\": 3}}", "'__metadata__' entry 'epoch' is a JSON number")]
    [InlineData("{\"__metadata__\": [\"a\"]}", "'__metadata__' is a JSON array")]
    public void Malformed_entries_say_what_is_wrong(string header, string expected) =>
        Assert.Contains(expected, Fails(header, 4).Message);

    [Fact]
    public void Invalid_utf8_in_a_key()
    {
        var path = RawSafetensors.Write(_folder.File("bad.safetensors"), [.. "{\"w"u8, 0xF4, .. "\": 1}"u8], 0);
        Assert.Contains("not valid UTF-8", Assert.Throws<WeightsException>(() => SafetensorsFile.ReadHeader(path)).Message);
    }

    [Fact]
    public void Duplicate_keys()
    {
        var error = Fails("{" + Tensor("w", "U8", "[1]", 0, 1) + "," + Tensor("w", "U8", "[1]", 1, 2) + "}", 2);
        Assert.Contains("key 'w' appears twice", error.Message);
    }

    [Fact]
    public void Holes_and_trailing_bytes_in_the_data_buffer()
    {
        Assert.Contains("data bytes [0,4) before tensor 'w' belong to no tensor",
            Fails("{" + Tensor("w", "U8", "[4]", 4, 8) + "}", 8).Message);
        Assert.Contains("3 bytes after the last tensor", Fails("{" + Tensor("w", "U8", "[1]", 0, 1) + "}", 4).Message);
    }

    [Fact]
    public void A_missing_file_says_so()
    {
        var error = Assert.Throws<WeightsException>(() => SafetensorsFile.ReadHeader(_folder.File("nowhere.safetensors")));
        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public void Every_truncation_of_a_real_file_is_a_clear_error()
    {
        var path = _folder.File("full.safetensors");
        SafetensorsFile.Save(path, [
            KeyValuePair.Create("conv.weight", randn(3, 2, 2)),
            KeyValuePair.Create("conv.bias", randn(3).to_type(ScalarType.Float16)),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        var bytes = File.ReadAllBytes(path);
        var cut = _folder.File("cut.safetensors");

        for (int length = 0; length < bytes.Length; length++)
        {
            File.WriteAllBytes(cut, bytes[..length]);
            var error = Assert.Throws<WeightsException>(() => SafetensorsFile.Load(cut));
            Assert.Contains(cut, error.Message);
        }
        Assert.Contains("shorter than the 8-byte", Assert.Throws<WeightsException>(() => { File.WriteAllBytes(cut, bytes[..5]); SafetensorsFile.Load(cut); }).Message);
        Assert.Contains("beyond the end", Assert.Throws<WeightsException>(() => { File.WriteAllBytes(cut, bytes[..^1]); SafetensorsFile.Load(cut); }).Message);
    }

    [Fact]
    public void Random_header_corruption_never_escapes_as_another_exception()
    {
        var path = _folder.File("full.safetensors");
        SafetensorsFile.Save(path, [KeyValuePair.Create("a", randn(4, 4)), KeyValuePair.Create("b", randn(2).to_type(ScalarType.BFloat16))]);
        var original = File.ReadAllBytes(path);
        var random = new Random(7);
        var bad = _folder.File("bad.safetensors");

        for (int trial = 0; trial < 300; trial++)
        {
            var bytes = (byte[])original.Clone();
            int headerEnd = 8 + (int)BitConverter.ToUInt64(original, 0);
            for (int flips = random.Next(1, 4); flips > 0; flips--)
                bytes[random.Next(0, headerEnd)] = (byte)random.Next(256);
            File.WriteAllBytes(bad, bytes);
            try { SafetensorsFile.Load(bad); }
            catch (WeightsException) { }
        }
    }
}
