namespace LaptopDiff.Spec
{
    /// <summary>A problem found in a spec or criterion file, positioned in it (1-based line and column).</summary>
    public sealed record SpecDiagnostic(string Id, string Message, string Path, SourceSpan Span)
    {
        public bool IsError => true;

        /// <summary>The compiler-style form: <c>path(line,col): error LD0002: message</c>.</summary>
        public override string ToString() =>
            Span.IsKnown ? $"{Path}({Span.Line},{Span.Column}): error {Id}: {Message}" : $"{Path}: error {Id}: {Message}";
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
