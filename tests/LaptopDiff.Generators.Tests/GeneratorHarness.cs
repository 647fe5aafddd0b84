using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using LaptopDiff.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace LaptopDiff.Generators.Tests;

/// <summary>An AdditionalText held in memory; a null text is a file that could not be read.</summary>
internal sealed class InMemoryText(string path, string? text) : AdditionalText
{
    public override string Path => path;
    public string? Text => text;
    public override SourceText? GetText(CancellationToken cancellationToken = default) =>
        text == null ? null : SourceText.From(text, Encoding.UTF8);
}

/// <summary>An AdditionalText whose read throws, to prove the generator turns it into a diagnostic.</summary>
internal sealed class ThrowingText(string path) : AdditionalText
{
    public override string Path => path;
    public override SourceText GetText(CancellationToken cancellationToken = default) => throw new IOException("disk on fire");
}

/// <summary>MSBuild properties as the generator sees them (<c>build_property.*</c>).</summary>
/// <summary>Per-file metadata (<c>build_metadata.AdditionalFiles.*</c>, from CompilerVisibleItemMetadata) is keyed by the file's path.</summary>
internal sealed class TestOptionsProvider(IReadOnlyDictionary<string, string> global,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? perFile = null) : AnalyzerConfigOptionsProvider
{
    public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(global);
    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.None;
    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
        perFile != null && perFile.TryGetValue(textFile.Path, out var values) ? new Options(values) : Options.None;

    private sealed class Options(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public static readonly Options None = new(new Dictionary<string, string>());
        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }
}

/// <summary>Runs <see cref="UNetGenerator"/> on in-memory specs, the way the compiler does.</summary>
internal static class GeneratorHarness
{
    public const string SpecFolder = "/specs/";

    /// <summary>
    /// The runtime surface the generated code uses, stubbed (the real one lives in LaptopDiff.Runtime and needs libtorch):
    /// the base class's constructor, Layout, Plan and Stage, and the module types of the typed members. The stub plan
    /// records what it is asked, so tests can see what the typed overloads pass on.
    /// </summary>
    public const string RuntimeStub = """
        namespace LaptopDiff.Runtime
        {
            /// <summary>Stub of the runtime's U-Net module base.</summary>
            public class UNet2DCondition
            {
                /// <summary>Builds the modules of a layout.</summary>
                public UNet2DCondition(global::LaptopDiff.Spec.UNetLayout layout)
                {
                    Layout = layout;
                    Plan = new Execution.ExecutionPlan(layout);
                }

                /// <summary>The layout it was built from.</summary>
                public global::LaptopDiff.Spec.UNetLayout Layout { get; }

                /// <summary>The execution plan.</summary>
                public Execution.ExecutionPlan Plan { get; }

                /// <summary>A stage's modules.</summary>
                public Blocks.UNetStage Stage(global::LaptopDiff.Spec.StageId stage) => new Blocks.UNetStage(stage);
            }
        }
        namespace LaptopDiff.Runtime.Execution
        {
            /// <summary>Stub plan.</summary>
            public sealed class ExecutionPlan
            {
                private readonly global::LaptopDiff.Spec.UNetLayout _layout;
                /// <summary>Stub.</summary>
                public ExecutionPlan(global::LaptopDiff.Spec.UNetLayout layout) => _layout = layout;
                /// <summary>The ids it was given.</summary>
                public UnitMask Mask(params string[] unitIds) => new UnitMask(unitIds);
                /// <summary>The index of the component's first step.</summary>
                public int StepOf(string componentId) =>
                    global::System.Linq.Enumerable.First(global::System.Linq.Enumerable.Where(_layout.Steps, s => _layout.Components[s.Component].Id == componentId)) is var step
                        ? global::System.Linq.Enumerable.ToList(_layout.Steps).IndexOf(step) : -1;
            }
            /// <summary>Stub mask: the ids it skips.</summary>
            public sealed record UnitMask(string[] SkippedIds);
        }
        namespace LaptopDiff.Runtime.Blocks
        {
            /// <summary>Stub stage: every module it is asked for, named after where it sits.</summary>
            public sealed class UNetStage
            {
                /// <summary>Stub.</summary>
                public UNetStage(global::LaptopDiff.Spec.StageId stage)
                {
                    var resnets = new global::System.Collections.Generic.Dictionary<int, ResnetBlock2D>();
                    var attentions = new global::System.Collections.Generic.Dictionary<int, Transformer2DModel>();
                    for (int i = 0; i < 4; i++)
                    {
                        resnets[i] = new ResnetBlock2D($"{stage.DiffusersName}.resnets.{i}");
                        attentions[i] = new Transformer2DModel($"{stage.DiffusersName}.attentions.{i}");
                    }
                    Resnets = resnets;
                    Attentions = attentions;
                    Downsamplers = new[] { new Downsample2D($"{stage.DiffusersName}.downsamplers.0") };
                    Upsamplers = new[] { new Upsample2D($"{stage.DiffusersName}.upsamplers.0") };
                }
                /// <summary>Stub.</summary>
                public global::System.Collections.Generic.IReadOnlyDictionary<int, ResnetBlock2D> Resnets { get; }
                /// <summary>Stub.</summary>
                public global::System.Collections.Generic.IReadOnlyDictionary<int, Transformer2DModel> Attentions { get; }
                /// <summary>Stub.</summary>
                public global::System.Collections.Generic.IReadOnlyList<Downsample2D> Downsamplers { get; }
                /// <summary>Stub.</summary>
                public global::System.Collections.Generic.IReadOnlyList<Upsample2D> Upsamplers { get; }
            }
            /// <summary>Stub module.</summary>
            public sealed record ResnetBlock2D(string Key);
            /// <summary>Stub module.</summary>
            public sealed record Transformer2DModel(string Key)
            {
                /// <summary>Stub.</summary>
                public global::System.Collections.Generic.IReadOnlyDictionary<int, BasicTransformerBlock> TransformerBlocks =>
                    global::System.Linq.Enumerable.ToDictionary(global::System.Linq.Enumerable.Range(0, 10), k => k, k => new BasicTransformerBlock($"{Key}.transformer_blocks.{k}"));
            }
            /// <summary>Stub module.</summary>
            public sealed record BasicTransformerBlock(string Key);
            /// <summary>Stub module.</summary>
            public sealed record Downsample2D(string Key);
            /// <summary>Stub module.</summary>
            public sealed record Upsample2D(string Key);
        }
        """;

    public static readonly CSharpParseOptions ParseOptions =
        new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.Diagnose);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        // the test host's own framework (implementation assemblies) plus the Spec library
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return tpa.Where(p =>
            {
                var name = Path.GetFileName(p);
                return name.StartsWith("System.", StringComparison.Ordinal) || name is "netstandard.dll" or "mscorlib.dll" or "LaptopDiff.Spec.dll";
            })
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    });

    public static CSharpCompilation Compilation(params string[] sources) =>
        CSharpCompilation.Create("Consumer",
            sources.Append(RuntimeStub).Select(s => CSharpSyntaxTree.ParseText(s, ParseOptions)),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver(IEnumerable<AdditionalText> texts, string? rootNamespace = "LaptopDiff.Models",
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? perFile = null)
    {
        return CSharpGeneratorDriver.Create(
            new[] { new UNetGenerator().AsSourceGenerator() },
            texts,
            ParseOptions,
            Options(rootNamespace, perFile),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
    }

    /// <summary>The consumer's options: RootNamespace, and per-file metadata such as a LaptopDiffPrune item's.</summary>
    public static TestOptionsProvider Options(string? rootNamespace = "LaptopDiff.Models",
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? perFile = null)
    {
        var global = new Dictionary<string, string>();
        if (rootNamespace != null) global["build_property.RootNamespace"] = rootNamespace;
        return new TestOptionsProvider(global, perFile);
    }

    /// <summary>One run with per-file metadata.</summary>
    public static Run Run(AdditionalText[] texts, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> perFile)
    {
        var driver = Driver(texts, "LaptopDiff.Models", perFile).RunGeneratorsAndUpdateCompilation(Compilation(), out var output, out _);
        return new Run(driver.GetRunResult().Results.Single(), (CSharpCompilation)output);
    }

    /// <summary>One run: the generator's result, its diagnostics, and the compilation with its output.</summary>
    public static Run Run(params AdditionalText[] texts) => Run(texts, "LaptopDiff.Models");

    public static Run Run(AdditionalText[] texts, string? rootNamespace)
    {
        var driver = Driver(texts, rootNamespace).RunGeneratorsAndUpdateCompilation(Compilation(), out var output, out _);
        return new Run(driver.GetRunResult().Results.Single(), (CSharpCompilation)output);
    }

    public static InMemoryText Yaml(string fileName, string text) => new(SpecFolder + fileName, text);

    /// <summary>A shipped spec from <c>models/</c>, under its own file name.</summary>
    public static InMemoryText Shipped(string fileName) => Yaml(fileName, File.ReadAllText(Path.Combine(RepoPaths.Models, fileName)));
}

internal sealed record Run(GeneratorRunResult Result, CSharpCompilation Output)
{
    public ImmutableArray<Diagnostic> Diagnostics => Result.Diagnostics;

    public string Source(string hintName) =>
        Result.GeneratedSources.Single(s => s.HintName == hintName).SourceText.ToString();

    /// <summary>Errors and warnings the compiler reports on the generated files (XML docs included).</summary>
    public List<Diagnostic> GeneratedCodeProblems()
    {
        var generated = Result.GeneratedSources.Select(s => s.SyntaxTree).ToHashSet();
        return Output.GetDiagnostics()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && (d.Location.SourceTree == null || generated.Contains(d.Location.SourceTree)))
            .ToList();
    }

    /// <summary>Compiles the output and loads it, to call the generated members for real.</summary>
    public Assembly Load()
    {
        using var stream = new MemoryStream();
        var emit = Output.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        stream.Position = 0;
        // LaptopDiff.Spec resolves to the test's own copy (the default context), so LayerInfo compares equal
        return new AssemblyLoadContext("generated-" + Guid.NewGuid().ToString("N"), isCollectible: true).LoadFromStream(stream);
    }
}

/// <summary>Finds the repository root (the folder holding LaptopDiff.sln).</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();
    public static string Models => Path.Combine(Root, "models");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LaptopDiff.sln"))) return dir.FullName;
        throw new InvalidOperationException("LaptopDiff.sln not found above " + AppContext.BaseDirectory);
    }
}
