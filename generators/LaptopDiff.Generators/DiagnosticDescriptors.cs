using LaptopDiff.Spec;
using Microsoft.CodeAnalysis;

namespace LaptopDiff.Generators
{
    /// <summary>
    /// The Roslyn descriptor of every <see cref="SpecDiagnosticIds"/> id, so <c>dotnet build</c> prints the
    /// same id and message as <c>laptop-diff</c>. Ids are never reused; new ones go to
    /// AnalyzerReleases.Unshipped.md too.
    /// </summary>
    internal static class DiagnosticDescriptors
    {
        public const string Category = "LaptopDiff.Spec";
        private const string Message = "{0}";

        public static readonly DiagnosticDescriptor InvalidYaml = new(SpecDiagnosticIds.InvalidYaml,
            "Invalid YAML", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor UnknownBlockType = new(SpecDiagnosticIds.UnknownBlockType,
            "Unknown block type", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor UnknownKey = new(SpecDiagnosticIds.UnknownKey,
            "Unknown key", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor MissingKey = new(SpecDiagnosticIds.MissingKey,
            "Missing key", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor InvalidValue = new(SpecDiagnosticIds.InvalidValue,
            "Invalid value", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor InconsistentChannels = new(SpecDiagnosticIds.InconsistentChannels,
            "Inconsistent channels", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor UnknownUnit = new(SpecDiagnosticIds.UnknownUnit,
            "Unknown unit", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor SkipCountMismatch = new(SpecDiagnosticIds.SkipCountMismatch,
            "Skip connections do not match", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor HeadsDoNotDivide = new(SpecDiagnosticIds.HeadsDoNotDivide,
            "Heads do not divide channels", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor NotPrunable = new(SpecDiagnosticIds.NotPrunable,
            "Unit is not prunable", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor BaseNotFound = new(SpecDiagnosticIds.BaseNotFound,
            "Base spec not found", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor InvalidName = new(SpecDiagnosticIds.InvalidName,
            "Invalid model name", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor DuplicateName = new(SpecDiagnosticIds.DuplicateName,
            "Duplicate model name", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor InvalidCriterion = new(SpecDiagnosticIds.InvalidCriterion,
            "Invalid criterion file", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor CriterionMismatch = new(SpecDiagnosticIds.CriterionMismatch,
            "Criterion file does not match the spec", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor InfeasibleRatio = new(SpecDiagnosticIds.InfeasibleRatio,
            "Pruning ratio cannot be reached", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        public static readonly DiagnosticDescriptor InternalError = new(SpecDiagnosticIds.InternalError,
            "Internal error", Message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        /// <summary>The descriptor of an id; an id this table does not know is reported as an internal error.</summary>
        public static DiagnosticDescriptor For(string id) => id switch
        {
            SpecDiagnosticIds.InvalidYaml => InvalidYaml,
            SpecDiagnosticIds.UnknownBlockType => UnknownBlockType,
            SpecDiagnosticIds.UnknownKey => UnknownKey,
            SpecDiagnosticIds.MissingKey => MissingKey,
            SpecDiagnosticIds.InvalidValue => InvalidValue,
            SpecDiagnosticIds.InconsistentChannels => InconsistentChannels,
            SpecDiagnosticIds.UnknownUnit => UnknownUnit,
            SpecDiagnosticIds.SkipCountMismatch => SkipCountMismatch,
            SpecDiagnosticIds.HeadsDoNotDivide => HeadsDoNotDivide,
            SpecDiagnosticIds.NotPrunable => NotPrunable,
            SpecDiagnosticIds.BaseNotFound => BaseNotFound,
            SpecDiagnosticIds.InvalidName => InvalidName,
            SpecDiagnosticIds.DuplicateName => DuplicateName,
            SpecDiagnosticIds.InvalidCriterion => InvalidCriterion,
            SpecDiagnosticIds.CriterionMismatch => CriterionMismatch,
            SpecDiagnosticIds.InfeasibleRatio => InfeasibleRatio,
            _ => InternalError,
        };
    }
}
