using LaptopDiff.Spec;

namespace LaptopDiff.Generators.Pipeline
{
    /// <summary>
    /// Everything the emitter writes for one spec, as plain equatable values: an equal model is never
    /// emitted twice. No symbols, no syntax, no locations.
    /// </summary>
    /// <param name="Namespace">The consumer's root namespace, already a valid C# namespace.</param>
    /// <param name="ClassName">The spec's name, escaped with '@' when it is a C# keyword.</param>
    /// <param name="SpecFileName">The spec's file name, for documentation.</param>
    /// <param name="BaseFileName">File name of the base spec of a pruned model, or null.</param>
    /// <param name="Layout">The expanded spec, emitted as C# data; its spec without YAML positions
    /// (<see cref="UNetSpec.WithoutSources"/>), so moving text in the file does not regenerate the class.</param>
    internal sealed record UNetClassModel(
        string Namespace,
        string ClassName,
        string SpecFileName,
        string? BaseFileName,
        UNetLayout Layout)
    {
        /// <summary>One file per class: <c>Sd15UNet.g.cs</c>.</summary>
        public string HintName => ClassName.TrimStart('@') + ".g.cs";
    }

    /// <summary>What the build step gives for one spec: the model, or the diagnostics that say why not.</summary>
    internal sealed record BuildResult(string Path, UNetClassModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);
}
