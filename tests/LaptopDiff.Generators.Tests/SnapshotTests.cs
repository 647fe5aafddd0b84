using static LaptopDiff.Generators.Tests.GeneratorHarness;

namespace LaptopDiff.Generators.Tests;

/// <summary>
/// The generated class of a shipped spec, checked in as a reviewed snapshot (<c>Snapshots/*.verified.cs</c>) so
/// readers see what the generator writes and reviewers see every change to it.
/// </summary>
public class SnapshotTests
{
    [Theory]
    [InlineData("tiny-sd15.unet.yaml", "TinySd15UNet")]
    public void GeneratedClassIsTheReviewedSnapshot(string spec, string className)
    {
        var source = Run(Shipped(spec)).Source(className + ".g.cs");
        var folder = Path.Combine(RepoPaths.Root, "tests", "LaptopDiff.Generators.Tests", "Snapshots");
        var verified = Path.Combine(folder, className + ".g.verified.cs");
        var received = Path.Combine(folder, className + ".g.received.cs");
        if (File.Exists(verified) && File.ReadAllText(verified).Replace("\r\n", "\n") == source)
        {
            File.Delete(received);
            return;
        }
        Directory.CreateDirectory(folder);
        File.WriteAllText(received, source);
        Assert.Fail($"the class generated from models/{spec} differs from the reviewed snapshot {verified}. " +
                    $"Review the new output in {received} (e.g. diff the two files); if the change is intended, accept it: mv \"{received}\" \"{verified}\"");
    }
}
