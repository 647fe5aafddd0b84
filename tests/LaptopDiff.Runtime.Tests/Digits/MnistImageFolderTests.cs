using LaptopDiff.Digits;
using LaptopDiff.Runtime.Images;
using LaptopDiff.Runtime.Tests.Weights;

namespace LaptopDiff.Runtime.Tests.Digits;

/// <summary>An MNIST split written as a captioned image folder, whole or its first N digits.</summary>
public sealed class MnistImageFolderTests
{
    [Fact]
    public void TheFirstNDigitsAreWrittenInSplitOrderWithTheWholeFoldersCaptions()
    {
        using var temp = new TempFolder();
        using var heldOut = MnistDigits.Load(MnistDigits.DefaultPath(TestPaths.RepoRoot), MnistSplit.HeldOut);
        MnistImageFolder.Write(heldOut, temp.File("some"), CaptionSet.Training, seed: 3, count: 7);
        var folder = ImageFolder.Read(temp.File("some"), captionsRequired: true);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"{i:D5}.png"), folder.Entries.Select(e => e.RelativePath));
        var labels = heldOut.Labels.data<long>().ToArray();
        // image i keeps the caption it has in the whole folder: digit i's seeded training template
        Assert.Equal(Enumerable.Range(0, 7).Select(i => DigitCaptions.ForTrainingImage((int)labels[i], 3, i)), folder.Entries.Select(e => e.Caption));

        MnistImageFolder.Write(heldOut, temp.File("all"), CaptionSet.Training, seed: 3, count: heldOut.Count + 5);
        Assert.Equal(heldOut.Count, ImageFolder.Read(temp.File("all"), captionsRequired: true).Entries.Count);
    }
}
