using System.Collections.Generic;
using System.Linq;
using LaptopDiff.Spec;
using Microsoft.CodeAnalysis;

namespace LaptopDiff.Generators
{
    /// <summary>
    /// The one table of diagnostics: each <see cref="SpecDiagnosticIds"/> id with its title and meaning, so
    /// <c>dotnet build</c> prints the same id and message as <c>laptop-diff</c>. A new id is one row here (Roslyn's
    /// release tracking then asks for its line in AnalyzerReleases.Unshipped.md; a test renders the table in
    /// models/README.md from <see cref="All"/>).
    /// </summary>
    internal static class DiagnosticDescriptors
    {
        public const string Category = "LaptopDiff.Spec";

        public static readonly DiagnosticDescriptor InvalidYaml = Error(SpecDiagnosticIds.InvalidYaml, "Invalid YAML", "invalid YAML");
        public static readonly DiagnosticDescriptor UnknownBlockType = Error(SpecDiagnosticIds.UnknownBlockType, "Unknown block type", "unknown block type");
        public static readonly DiagnosticDescriptor UnknownKey = Error(SpecDiagnosticIds.UnknownKey, "Unknown key", "unknown key (with a suggestion)");
        public static readonly DiagnosticDescriptor MissingKey = Error(SpecDiagnosticIds.MissingKey, "Missing key", "missing key");
        public static readonly DiagnosticDescriptor InvalidValue = Error(SpecDiagnosticIds.InvalidValue, "Invalid value", "invalid value");
        public static readonly DiagnosticDescriptor InconsistentChannels = Error(SpecDiagnosticIds.InconsistentChannels,
            "Inconsistent channels", "inconsistent channels (GroupNorm groups)");
        public static readonly DiagnosticDescriptor UnknownUnit = Error(SpecDiagnosticIds.UnknownUnit, "Unknown unit", "unknown unit in `pinned`/`removed`");
        public static readonly DiagnosticDescriptor SkipCountMismatch = Error(SpecDiagnosticIds.SkipCountMismatch,
            "Skip connections do not match", "skip connections do not match");
        public static readonly DiagnosticDescriptor HeadsDoNotDivide = Error(SpecDiagnosticIds.HeadsDoNotDivide,
            "Heads do not divide channels", "heads do not divide channels");
        public static readonly DiagnosticDescriptor NotPrunable = Error(SpecDiagnosticIds.NotPrunable, "Unit is not prunable", "removed unit is not prunable");
        public static readonly DiagnosticDescriptor BaseNotFound = Error(SpecDiagnosticIds.BaseNotFound, "Base spec not found", "base spec not found");
        public static readonly DiagnosticDescriptor InvalidName = Error(SpecDiagnosticIds.InvalidName, "Invalid model name", "name is not a C# identifier");
        public static readonly DiagnosticDescriptor DuplicateName = Error(SpecDiagnosticIds.DuplicateName,
            "Duplicate model name", "two specs in one build name the same class");
        public static readonly DiagnosticDescriptor InvalidCriterion = Error(SpecDiagnosticIds.InvalidCriterion,
            "Invalid criterion file", "invalid criterion file (malformed, or a NaN or negative loss)");
        public static readonly DiagnosticDescriptor CriterionMismatch = Error(SpecDiagnosticIds.CriterionMismatch,
            "Criterion file does not match the spec", "criterion file does not match the spec (structure hash, unknown, missing or miscounted units)");
        public static readonly DiagnosticDescriptor InfeasibleRatio = Error(SpecDiagnosticIds.InfeasibleRatio,
            "Pruning ratio cannot be reached", "pruning ratio cannot be reached, or is not in (0, 1)");
        public static readonly DiagnosticDescriptor InternalError = Error(SpecDiagnosticIds.InternalError,
            "Internal error", "internal error (a LaptopDiff bug, reported instead of crashing the build)");

        /// <summary>Every descriptor, in id order.</summary>
        public static IReadOnlyList<DiagnosticDescriptor> All { get; } = new[]
        {
            InvalidYaml, UnknownBlockType, UnknownKey, MissingKey, InvalidValue, InconsistentChannels, UnknownUnit, SkipCountMismatch,
            HeadsDoNotDivide, NotPrunable, BaseNotFound, InvalidName, DuplicateName, InvalidCriterion, CriterionMismatch, InfeasibleRatio,
            InternalError,
        };

        private static readonly Dictionary<string, DiagnosticDescriptor> s_byId = All.ToDictionary(d => d.Id);

        /// <summary>The descriptor of an id; an id this table does not know is reported as an internal error.</summary>
        public static DiagnosticDescriptor For(string id) => s_byId.TryGetValue(id, out var d) ? d : InternalError;

        // every message is the diagnostic's own text, as the CLI prints it
        private static DiagnosticDescriptor Error(string id, string title, string meaning) =>
            new DiagnosticDescriptor(id, title, "{0}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true, description: meaning);
    }
}
