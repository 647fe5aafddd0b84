using LaptopDiff.Generators.Emit;
using LaptopDiff.Generators.Pipeline;
using Microsoft.CodeAnalysis;

namespace LaptopDiff.Generators
{
    /// <summary>
    /// Compiles each <c>*.unet.yaml</c> AdditionalFile into a typed U-Net class (layer enum, layer table,
    /// parameter constants) and reports spec problems at their line and column in the YAML.
    /// Parse → resolve → build → emit; every step is equatable and named, and none does I/O.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class UNetGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            // 1. parse: each spec's text into a spec record and its diagnostics
            var files = context.AdditionalTextsProvider
                .Where(static f => SpecFile.IsSpec(f.Path))
                .Select(static (f, ct) => SpecFile.Parse(f, ct))
                .WithTrackingName(TrackingNames.Parse);

            // 2. resolve: a pruned spec (base: + removed:) finds its base by file name among all specs
            var bases = files.Collect()
                .Select(static (all, _) => BaseIndex.Create(all))
                .WithTrackingName(TrackingNames.BaseIndex);
            var resolved = files.Combine(bases)
                .Select(static (pair, ct) => ResolvedSpec.Resolve(pair.Left, pair.Right, ct))
                .WithTrackingName(TrackingNames.Resolve);

            // 3. build: layout (units, parameters, prunability) → emit model, in the consumer's namespace
            var options = context.AnalyzerConfigOptionsProvider
                .Select(static (o, _) => GeneratorOptions.From(o.GlobalOptions))
                .WithTrackingName(TrackingNames.Options);
            var built = resolved.Combine(options)
                .Select(static (pair, ct) => ModelBuilder.Build(pair.Left, pair.Right, ct))
                .WithTrackingName(TrackingNames.Build);

            // 4. one spec per class name: a second claim is a diagnostic, not a duplicate hint name
            var claims = built.Select(static (b, _) => ClassClaims.Of(b)).Collect()
                .Select(static (all, _) => ClassClaims.Create(all))
                .WithTrackingName(TrackingNames.ClassNames);
            var checkedResults = built.Combine(claims)
                .Select(static (pair, _) => pair.Right.Check(pair.Left))
                .WithTrackingName(TrackingNames.Unique);

            // 5. report and emit apart: a diagnostic that moves never regenerates code
            var diagnostics = checkedResults.Select(static (r, _) => r.Diagnostics).WithTrackingName(TrackingNames.Diagnostics);
            var models = checkedResults.Select(static (r, _) => r.Model).Where(static m => m != null).WithTrackingName(TrackingNames.Models);
            context.RegisterSourceOutput(diagnostics, DiagnosticSink.Report);
            context.RegisterSourceOutput(models, UNetEmitter.Emit);
        }
    }
}
