using System;
using LaptopDiff.Generators.Pipeline;
using LaptopDiff.Spec;
using Microsoft.CodeAnalysis;

namespace LaptopDiff.Generators.Emit
{
    /// <summary>The diagnostics output: each spec's problems, located in its YAML file.</summary>
    internal static class DiagnosticSink
    {
        public static void Report(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
        {
            foreach (var d in diagnostics)
            {
                try
                {
                    context.ReportDiagnostic(d.ToDiagnostic());
                }
                catch (Exception e) when (!(e is OperationCanceledException))
                {
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InternalError, Location.None,
                        $"could not report {d.Id} on {d.Path} ({d.Message}): {e.GetType().Name}: {e.Message}"));
                }
            }
        }
    }
}
