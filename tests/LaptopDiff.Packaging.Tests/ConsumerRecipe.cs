namespace LaptopDiff.Packaging.Tests;

/// <summary>
/// docs/package.md ("Use it in your project"), block by block: the packaging tests run these and
/// <see cref="RecipeDocTests"/> checks that the doc shows exactly these blocks. $FEED is the folder the
/// package is packed into, $LAPTOPDIFF this repository.
/// </summary>
internal static class ConsumerRecipe
{
    /// <summary>The doc that holds the recipe, relative to the repository root.</summary>
    public const string Doc = "docs/package.md";

    public const string ProjectName = "UNetApp";

    /// <summary>The pack line, run from the repository root (a fresh clone or a built one).</summary>
    public const string Pack = "dotnet pack src/LaptopDiff.Package -c Release -o \"$FEED\"";

    /// <summary>A bash block, run from an empty folder.</summary>
    public const string Setup = """
        dotnet new console -n UNetApp
        cd UNetApp
        dotnet add package LaptopDiff --version 0.1.0 --source "$FEED"
        cp "$LAPTOPDIFF/models/tiny-sd15.unet.yaml" "$LAPTOPDIFF/models/tiny-sd15.criterion.json" .
        """;

    /// <summary>An xml block, added to UNetApp.csproj before its closing &lt;/Project&gt;.</summary>
    public const string ProjectLines = """
          <PropertyGroup>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
            <GenerateDocumentationFile>true</GenerateDocumentationFile>
          </PropertyGroup>
          <ItemGroup>
            <LaptopDiffPrune Include="tiny-sd15.unet.yaml" Criterion="tiny-sd15.criterion.json" Ratios="0.5" />
          </ItemGroup>
        """;

    /// <summary>A csharp block, the whole of Program.cs.</summary>
    public const string Program = """
        using LaptopDiff.Runtime.Backends;
        using LaptopDiff.Runtime.Execution;
        using LaptopDiff.Runtime.Weights;
        using TorchSharp;
        using UNetApp;

        // As the laptop-diff CLI does, before any tensor: freed tensor blocks stay on the heap, and MKL picks its
        // kernels by the CPU's features on every vendor (see src/LaptopDiff.Runtime/Backends).
        HostAllocator.Configure();
        MklCpuDispatch.Configure();

        // TinySd15UNet is generated from tiny-sd15.unet.yaml; TinySd15UNetPruned50 from the <LaptopDiffPrune> item.
        torch.manual_seed(0);
        using var teacher = new TinySd15UNet();
        WeightLoader.Save(teacher, "teacher.safetensors");
        using var student = new TinySd15UNetPruned50();
        var report = WeightLoader.Load(student, "teacher.safetensors", strict: false);

        var spec = TinySd15UNet.SpecLayout.Spec;
        var inputs = new UNetInputs(
            torch.randn(2, spec.InChannels, spec.SampleSize, spec.SampleSize),
            torch.tensor(new long[] { 10, 500 }),
            torch.randn(2, 8, spec.CrossAttentionDim));
        using var noGrad = torch.no_grad();
        using var pruned = student.forward(inputs);
        using var masked = teacher.Forward(inputs, teacher.Plan.Mask(student.Layout.Removed.ToArray()));

        Console.WriteLine($"teacher params: {TinySd15UNet.TotalParamCount}");
        Console.WriteLine($"student params: {TinySd15UNetPruned50.TotalParamCount}");
        Console.WriteLine($"student units: {TinySd15UNetPruned50.LayerTable.Count(r => r.IsUnit)} of {TinySd15UNet.LayerTable.Count(r => r.IsUnit)}");
        Console.WriteLine($"weights: {report.Matched} loaded, {report.Missing.Count} missing, {report.Unexpected.Count} unused");
        Console.WriteLine($"output: [{string.Join(", ", pruned.Sample.shape)}]");
        Console.WriteLine($"max |student - masked teacher|: {(pruned.Sample - masked.Sample).abs().max().item<float>():E2}");
        """;

    /// <summary>A bash block, run in UNetApp/.</summary>
    public const string BuildAndRun = """
        dotnet build
        dotnet run
        """;

    /// <summary>The tool's install line ("The laptop-diff tool"); $TOOLS is any folder.</summary>
    public const string ToolInstall = "dotnet tool install laptop-diff --version 0.1.0 --tool-path \"$TOOLS\" --add-source \"$FEED\"";
}
