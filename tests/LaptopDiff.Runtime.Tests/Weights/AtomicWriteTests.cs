using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Weights;

public sealed class AtomicWriteTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_failing_writer_leaves_no_file_and_no_temporary()
    {
        var path = _folder.File("out.json");

        var error = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("partial"u8);
            throw new InvalidOperationException("boom");
        }));

        Assert.Equal("boom", error.Message);
        Assert.Empty(_folder.Files());
    }

    [Fact]
    public void A_failing_writer_keeps_the_previous_file()
    {
        var path = _folder.File("out.json");
        File.WriteAllText(path, "old");

        Assert.ThrowsAny<Exception>(() => AtomicFile.Write(path, s => { s.Write("new"u8); throw new IOException("disk full"); }));

        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["out.json"], _folder.Files());
    }

    [Fact]
    public void A_successful_write_replaces_the_file_and_leaves_no_temporary()
    {
        var path = _folder.File("out.json");
        File.WriteAllText(path, "old");

        AtomicFile.Write(path, s => s.Write("new"u8));

        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["out.json"], _folder.Files());
    }

    [Fact]
    public void Saving_an_unsupported_dtype_fails_before_any_file_exists()
    {
        var path = _folder.File("w.safetensors");

        var error = Assert.Throws<WeightsException>(() =>
            SafetensorsFile.Save(path, [KeyValuePair.Create("ok", zeros(2)), KeyValuePair.Create("z", zeros(2, dtype: ScalarType.ComplexFloat32))]));

        Assert.Contains("tensor 'z' has dtype ComplexFloat32", error.Message);
        Assert.Empty(_folder.Files());
    }

    [Fact]
    public void A_failing_save_over_an_existing_file_keeps_it()
    {
        var path = _folder.File("w.safetensors");
        SafetensorsFile.Save(path, [KeyValuePair.Create("a", ones(2))]);
        var before = File.ReadAllBytes(path);

        Assert.Throws<WeightsException>(() => SafetensorsFile.Save(path, [KeyValuePair.Create("a", ones(2)), KeyValuePair.Create("a", ones(3))]));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["w.safetensors"], _folder.Files());
    }

    [Fact]
    public void Saving_into_a_missing_folder_is_a_weights_error()
    {
        var path = Path.Combine(_folder.Path, "no-such-dir", "w.safetensors");

        var error = Assert.Throws<WeightsException>(() => SafetensorsFile.Save(path, [KeyValuePair.Create("a", ones(2))]));

        Assert.Contains(path, error.Message);
        Assert.Contains("Check that the folder exists", error.Message);
    }
}
