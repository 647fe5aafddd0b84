using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Tests.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Images;

public sealed class ImageFolderTests
{
    public ImageFolderTests() => set_num_threads(1);

    [Fact]
    public void Captions_come_from_metadata_jsonl_in_ordinal_order_of_the_paths()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("sub"));
        foreach (var name in new[] { "b.png", "a.png", "sub/c.png" }) TestImages.WriteRgbPng(temp.File(name), 4, 4);
        File.WriteAllLines(temp.File(ImageFolder.MetadataFile),
        [
            """{"file_name": "sub/c.png", "text": "a cat", "label": 3}""",
            "",
            """{"file_name": "a.png", "text": "an apple"}""",
            """{"file_name": "b.png", "text": "a bee"}""",
        ]);

        var folder = ImageFolder.Read(temp.Path, captionsRequired: true);

        Assert.Equal(["a.png", "b.png", "sub/c.png"], folder.Entries.Select(e => e.RelativePath));
        Assert.Equal(["an apple", "a bee", "a cat"], folder.Entries.Select(e => e.Caption));
        Assert.Equal(ImageFolder.MetadataFile, folder.CaptionSource);
    }

    [Fact]
    public void Without_metadata_a_txt_file_beside_each_image_is_its_caption()
    {
        using var temp = new TempFolder();
        TestImages.WriteRgbPng(temp.File("x.png"), 4, 4);
        File.WriteAllText(temp.File("x.txt"), "  a red square\n");
        TestImages.WriteRgbPng(temp.File("y.jpg.png"), 4, 4);

        var folder = ImageFolder.Read(temp.Path, captionsRequired: false);
        Assert.Equal(["a red square", null], folder.Entries.Select(e => e.Caption));

        var e = Assert.Throws<InputException>(() => ImageFolder.Read(temp.Path, captionsRequired: true));
        Assert.Contains("1 of 2 images have no caption (y.jpg.png)", e.Message);
    }

    [Fact]
    public void Missing_captions_bad_lines_and_files_that_do_not_exist_are_named()
    {
        using var temp = new TempFolder();
        TestImages.WriteRgbPng(temp.File("a.png"), 4, 4);
        TestImages.WriteRgbPng(temp.File("b.png"), 4, 4);
        var metadata = temp.File(ImageFolder.MetadataFile);

        File.WriteAllText(metadata, """{"file_name": "a.png", "text": "one"}""" + "\n");
        var e = Assert.Throws<InputException>(() => ImageFolder.Read(temp.Path, captionsRequired: true));
        Assert.Contains("1 of 2 images have no caption (b.png)", e.Message);
        Assert.Contains("metadata.jsonl", e.Message);
        Assert.Equal(2, ImageFolder.Read(temp.Path, captionsRequired: false).Entries.Count);

        File.WriteAllText(metadata, """{"file_name": "a.png", "text": "one"}""" + "\n{not json\n");
        e = Assert.Throws<InputException>(() => ImageFolder.Read(temp.Path, captionsRequired: false));
        Assert.Contains("line 2: not valid JSON", e.Message);

        File.WriteAllText(metadata, """{"file_name": "a.png"}""");
        Assert.Contains("line 1: needs a string 'text'", Assert.Throws<InputException>(() => ImageFolder.Read(temp.Path, false)).Message);

        File.WriteAllText(metadata, """{"file_name": "gone.png", "text": "x"}""");
        Assert.Contains("'gone.png' does not exist", Assert.Throws<InputException>(() => ImageFolder.Read(temp.Path, false)).Message);

        File.WriteAllText(metadata, """{"file_name": "a.png", "text": "x"}""" + "\n" + """{"file_name": "a.png", "text": "y"}""");
        Assert.Contains("'a.png' is captioned twice", Assert.Throws<InputException>(() => ImageFolder.Read(temp.Path, false)).Message);

        Assert.Contains("does not exist", Assert.Throws<InputException>(() => ImageFolder.Read(temp.File("not-there"), false)).Message);
        Directory.CreateDirectory(temp.File("empty"));
        Assert.Contains("holds no images", Assert.Throws<InputException>(() => ImageFolder.Read(temp.File("empty"), false)).Message);
    }

    [Fact]
    public void Unreadable_grayscale_and_alpha_images_are_skipped_and_counted_by_reason()
    {
        using var temp = new TempFolder();
        TestImages.WriteRgbPng(temp.File("good.png"), 4, 4);
        TestImages.WriteGarbage(temp.File("broken.png"));
        File.WriteAllBytes(temp.File("cut.png"), File.ReadAllBytes(temp.File("good.png"))[..60]);
        TestImages.WriteGrayPng(temp.File("gray.png"), 4);
        TestImages.WriteRgbaPng(temp.File("rgba.png"), 4);
        Assert.Equal(0, TestImages.PngColourType(temp.File("gray.png")));
        Assert.Equal(6, TestImages.PngColourType(temp.File("rgba.png")));

        var folder = ImageFolder.Read(temp.Path, captionsRequired: false);
        using var batch = ImageBatch.Load(folder.Entries, 4);

        Assert.Equal(["good.png"], batch.Kept.Select(e => e.RelativePath));
        Assert.Equal([1L, 3, 4, 4], batch.Pixels.shape);
        Assert.Equal(
            [("broken.png", ImageDecoder.Unreadable), ("cut.png", ImageDecoder.Unreadable), ("gray.png", ImageDecoder.Grayscale), ("rgba.png", ImageDecoder.HasAlpha)],
            batch.Skipped.Select(s => (s.RelativePath, s.Reason)));
        Assert.Equal("4 skipped: 2 unreadable (broken.png, cut.png), 1 grayscale (not RGB) (gray.png), 1 has an alpha channel (not RGB) (rgba.png)",
            ImageBatch.Describe(batch.Skipped));
    }

    [Fact]
    public void Pixels_are_channels_first_in_minus_one_to_one_and_a_wide_image_is_centre_cropped()
    {
        using var temp = new TempFolder();
        TestImages.WriteRgbPng(temp.File("wide.png"), 5, 3);       // the short side is already 3: only the crop, columns 1..3

        using var decoded = ImageDecoder.Decode(temp.File("wide.png"), 3).Pixels!;

        var rgb = TestImages.Rgb(5, 3);
        Assert.Equal([3L, 3, 3], decoded.shape);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 3; x++)
                    Assert.Equal(rgb[3 * (y * 5 + x + 1) + c] / 127.5f - 1f, decoded[c, y, x].item<float>(), 6);
    }

    [Fact]
    public void Resizing_keeps_a_uniform_image_uniform_and_gives_the_short_side_the_model_size()
    {
        var rgba = new byte[12 * 8 * 4];
        for (int i = 0; i < 12 * 8; i++) (rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]) = (51, 102, 204, 255);

        using var x = ImageDecoder.ToModelInput(rgba, width: 12, height: 8, size: 4);     // 12x8 -> 6x4 -> crop 4x4

        Assert.Equal([3L, 4, 4], x.shape);
        var expected = new[] { 51 / 127.5f - 1, 102 / 127.5f - 1, 204 / 127.5f - 1 };
        for (int c = 0; c < 3; c++)
            Assert.True((x[c] - expected[c]).abs().max().item<float>() < 1e-5f, $"channel {c} is not uniform at {expected[c]}");
    }

    [Fact]
    public void The_writer_makes_rgb_pngs_that_read_back_exactly_and_leaves_nothing_on_failure()
    {
        using var temp = new TempFolder();
        var target = temp.File("folder");
        ImageFolderWriter.Write(target, [new("00.png", TestImages.Rgb(3, 2), 3, 2, "first"), new("d/01.png", TestImages.Rgb(2, 2), 2, 2, "second")]);

        Assert.Equal(2, TestImages.PngColourType(Path.Combine(target, "00.png")));
        var folder = ImageFolder.Read(target, captionsRequired: true);
        Assert.Equal(["00.png", "d/01.png"], folder.Entries.Select(e => e.RelativePath));
        Assert.Equal(["first", "second"], folder.Entries.Select(e => e.Caption));
        using var decoded = ImageDecoder.Decode(folder.Entries[1].FullPath, 2).Pixels!;
        var rgb = TestImages.Rgb(2, 2);
        Assert.Equal(rgb.Select(v => v / 127.5f - 1f), decoded.permute(1, 2, 0).flatten().data<float>().ToArray());

        Assert.Throws<InputException>(() => ImageFolderWriter.Write(target, [new("x.png", TestImages.Rgb(1, 1), 1, 1, "x")]));
        var failed = temp.File("failed");
        Assert.Throws<ArgumentException>(() => ImageFolderWriter.Write(failed, [new("x.png", TestImages.Rgb(1, 1), 1, 1, "x"), new("x.png", TestImages.Rgb(1, 1), 1, 1, "y")]));
        Assert.Equal(["folder"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName));
    }
}
