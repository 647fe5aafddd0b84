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

            // 3b. build-time pruning: a <LaptopDiffPrune> item's criterion file (an AdditionalFile with metadata) is solved
            //     at each ratio (of its budget, from its costs file) into a pruned overlay, which takes the same
            //     resolve -> layout -> emit path as a pruned spec file
            var pruneRequests = context.AdditionalTextsProvider
                .Combine(context.AnalyzerConfigOptionsProvider)
                .Select(static (pair, ct) => PruneRequest.Read(pair.Left, pair.Right.GetOptions(pair.Left), ct))
                .Where(static r => r != null)
                .Select(static (r, _) => r!)
                .WithTrackingName(TrackingNames.PruneParse);
            var costsFiles = context.AdditionalTextsProvider
                .Combine(context.AnalyzerConfigOptionsProvider)
                .Select(static (pair, ct) => CostsInput.Read(pair.Left, pair.Right.GetOptions(pair.Left), ct))
                .Where(static c => c != null)
                .Select(static (c, _) => c!)
                .WithTrackingName(TrackingNames.CostsParse);
            context.RegisterSourceOutput(costsFiles.Select(static (c, _) => c.Diagnostics), DiagnosticSink.Report);
            var costs = costsFiles.Collect()
                .Select(static (all, _) => CostsIndex.Create(all))
                .WithTrackingName(TrackingNames.CostsIndex);
            var pruneOutcomes = pruneRequests.Combine(bases).Combine(costs)
                .Select(static (pair, ct) => PruneOutcome.Solve(pair.Left.Left, pair.Left.Right, pair.Right, ct))
                .WithTrackingName(TrackingNames.PruneSolve);
            var prunedBuilt = pruneOutcomes.SelectMany(static (o, _) => o.Specs)
                .Combine(options)
                .Select(static (pair, ct) => ModelBuilder.Build(pair.Left, pair.Right, ct))
                .WithTrackingName(TrackingNames.PruneBuild);
            context.RegisterSourceOutput(pruneOutcomes.Select(static (o, _) => o.Diagnostics), DiagnosticSink.Report);

            // 4. one spec per class name: a second claim is a diagnostic, not a duplicate hint name
            var claims = built.Select(static (b, _) => ClassClaims.Of(b)).Collect()
                .Combine(prunedBuilt.Select(static (b, _) => ClassClaims.Of(b)).Collect())
                .Select(static (all, _) => ClassClaims.Create(all.Left.AddRange(all.Right)))
                .WithTrackingName(TrackingNames.ClassNames);
            Output(context, built, claims);
            Output(context, prunedBuilt, claims);
        }

        private static void Output(IncrementalGeneratorInitializationContext context, IncrementalValuesProvider<BuildResult> built, IncrementalValueProvider<ClassClaims> claims)
        {
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
