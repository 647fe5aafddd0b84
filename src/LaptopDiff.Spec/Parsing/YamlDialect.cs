namespace LaptopDiff.Spec
{
    /// <summary>
    /// What differs between the files <see cref="YamlMapReader"/> reads: a spec (YAML) or a criterion file (JSON,
    /// which is YAML flow syntax): the diagnostic ids its problems get, its words, and JSON's stricter numbers.
    /// </summary>
    internal sealed class YamlDialect
    {
        public static readonly YamlDialect Spec = new YamlDialect
        {
            Syntax = "YAML",
            FileNoun = "spec file",
            RootContext = "the spec",
            RootShape = "a spec must be a YAML mapping with at least 'name', 'down', 'mid' and 'up'",
            MaxDepth = 64,
            DepthNeeded = "a spec needs a handful",
            ObjectNoun = "a mapping",
            SyntaxId = SpecDiagnosticIds.InvalidYaml,
            UnknownKeyId = SpecDiagnosticIds.UnknownKey,
            MissingKeyId = SpecDiagnosticIds.MissingKey,
            InvalidValueId = SpecDiagnosticIds.InvalidValue,
        };

        public static readonly YamlDialect Criterion = new YamlDialect
        {
            Syntax = "JSON",
            FileNoun = "criterion file",
            RootContext = "the criterion file",
            RootShape = "a criterion file must be a JSON object with 'format', 'criterion', 'spec' and 'units'",
            MaxDepth = 32,
            DepthNeeded = "a criterion file needs four",
            ObjectNoun = "an object",
            IntegerHint = " (a JSON number without fraction or exponent)",
            JsonNumbers = true,
            SyntaxId = SpecDiagnosticIds.InvalidCriterion,
            UnknownKeyId = SpecDiagnosticIds.InvalidCriterion,
            MissingKeyId = SpecDiagnosticIds.InvalidCriterion,
            InvalidValueId = SpecDiagnosticIds.InvalidCriterion,
        };

        private YamlDialect() { }

        public string Syntax { get; private set; } = "";
        public string FileNoun { get; private set; } = "";
        /// <summary>How messages name the root mapping.</summary>
        public string RootContext { get; private set; } = "";
        /// <summary>The message when the document is not a mapping.</summary>
        public string RootShape { get; private set; } = "";
        /// <summary>Most nesting accepted (checked before YamlDotNet's recursive loader runs).</summary>
        public int MaxDepth { get; private set; }
        public string DepthNeeded { get; private set; } = "";
        public string ObjectNoun { get; private set; } = "";
        public string IntegerHint { get; private set; } = "";
        /// <summary>Numbers follow JSON's grammar (no '.5', no hex); otherwise anything .NET reads as a float.</summary>
        public bool JsonNumbers { get; private set; }
        public string SyntaxId { get; private set; } = "";
        public string UnknownKeyId { get; private set; } = "";
        public string MissingKeyId { get; private set; } = "";
        public string InvalidValueId { get; private set; } = "";
    }
}
