namespace LaptopDiff.Spec
{
    /// <summary>A problem found in a spec file, positioned in the YAML (1-based line and column).</summary>
    public sealed record SpecDiagnostic(string Id, string Title, string Message, string Path, SourceSpan Span)
    {
        public bool IsError => true;

        /// <summary>The compiler-style form: <c>path(line,col): error LD0002: message</c>.</summary>
        public override string ToString() =>
            Span.IsKnown ? $"{Path}({Span.Line},{Span.Column}): error {Id}: {Message}" : $"{Path}: error {Id}: {Message}";
    }

    /// <summary>
    /// The one table of diagnostic ids. Ids are never reused; the generator maps each to a Roslyn
    /// descriptor and the CLI prints the same id, so a message can be looked up either way.
    /// </summary>
    public static class SpecDiagnosticIds
    {
        public const string InvalidYaml = "LD0001";
        public const string UnknownBlockType = "LD0002";
        public const string UnknownKey = "LD0003";
        public const string MissingKey = "LD0004";
        public const string InvalidValue = "LD0005";
        public const string InconsistentChannels = "LD0006";
        public const string UnknownUnit = "LD0007";
        public const string SkipCountMismatch = "LD0008";
        public const string HeadsDoNotDivide = "LD0009";
        public const string NotPrunable = "LD0010";
        public const string BaseNotFound = "LD0011";
        public const string InvalidName = "LD0012";
        /// <summary>Two specs in one build name the same class.</summary>
        public const string DuplicateName = "LD0013";
        /// <summary>A bug in LaptopDiff itself (an unexpected exception), reported instead of crashing.</summary>
        public const string InternalError = "LD9999";
        /// <summary>A criterion file (per-unit ablation losses) is malformed or holds an invalid value (NaN, negative).</summary>
        public const string InvalidCriterion = "LD0014";
        /// <summary>A criterion file does not fit the spec: other structure (hash), unknown, missing or miscounted units.</summary>
        public const string CriterionMismatch = "LD0015";
        /// <summary>A pruning ratio that removing every prunable unit cannot reach (or not in [0, 1]).</summary>
        public const string InfeasibleRatio = "LD0016";

        public static string TitleOf(string id) => id switch
        {
            InvalidYaml => "Invalid YAML",
            UnknownBlockType => "Unknown block type",
            UnknownKey => "Unknown key",
            MissingKey => "Missing key",
            InvalidValue => "Invalid value",
            InconsistentChannels => "Inconsistent channels",
            UnknownUnit => "Unknown unit",
            SkipCountMismatch => "Skip connections do not match",
            HeadsDoNotDivide => "Heads do not divide channels",
            NotPrunable => "Unit is not prunable",
            BaseNotFound => "Base spec not found",
            InvalidName => "Invalid model name",
            DuplicateName => "Duplicate model name",
            InternalError => "Internal error",
            InvalidCriterion => "Invalid criterion file",
            CriterionMismatch => "Criterion file does not match the spec",
            InfeasibleRatio => "Pruning ratio cannot be reached",
            _ => "Spec error",
        };
    }

    /// <summary>Thrown by runtime entry points that need a valid spec; carries every diagnostic.</summary>
    public sealed class SpecException : System.Exception
    {
        public SpecException(System.Collections.Generic.IReadOnlyList<SpecDiagnostic> diagnostics)
            : base(string.Join(System.Environment.NewLine, System.Linq.Enumerable.Select(diagnostics, d => d.ToString())))
            => Diagnostics = diagnostics;

        public System.Collections.Generic.IReadOnlyList<SpecDiagnostic> Diagnostics { get; }
    }
}
