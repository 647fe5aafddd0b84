namespace LaptopDiff.Spec
{
    /// <summary>
    /// The diagnostic ids the spec library, the CLI and the generator report. Ids are never reused. Their titles
    /// and meanings are the generator's descriptor table (<c>DiagnosticDescriptors</c>), from which
    /// AnalyzerReleases.Unshipped.md and the table in models/README.md are kept (by Roslyn's release tracking and
    /// a test).
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
        public const string DuplicateName = "LD0013";
        public const string InvalidCriterion = "LD0014";
        public const string CriterionMismatch = "LD0015";
        public const string InfeasibleRatio = "LD0016";
        public const string InternalError = "LD9999";
    }
}
