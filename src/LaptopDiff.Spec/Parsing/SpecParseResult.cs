namespace LaptopDiff.Spec
{
    /// <summary>What parsing one spec file gave: the spec (null when it could not be read) and its problems.</summary>
    public sealed record SpecParseResult(string Path, UNetSpec? Spec, EquatableArray<SpecDiagnostic> Diagnostics)
    {
        public bool Success => Spec != null && Diagnostics.Count == 0;

        /// <summary>The spec, or a <see cref="SpecException"/> listing every diagnostic.</summary>
        public UNetSpec GetSpecOrThrow()
        {
            if (!Success) throw new SpecException(Diagnostics);
            return Spec!;
        }
    }
}
