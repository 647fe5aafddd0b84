using System;
using System.Collections.Immutable;
using System.Linq;
using LaptopDiff.Spec;

namespace LaptopDiff.Generators.Pipeline
{
    /// <summary>
    /// Which spec may emit which class. Two specs naming the same class (or names that differ only in
    /// case, which would share a hint file) are an error on every spec but the first by path, instead
    /// of an exception from <c>AddSource</c>.
    /// </summary>
    internal sealed record ClassClaims(EquatableArray<ClassClaims.Claim> Claims)
    {
        internal sealed record Claim(string ClassName, string Path);

        public static ClassClaims Create(ImmutableArray<Claim?> claims) =>
            new ClassClaims(claims.Where(c => c != null).Select(c => c!)
                .OrderBy(c => c.Path, StringComparer.Ordinal).ToEquatableArray());

        public static Claim? Of(BuildResult result) =>
            result.Model == null ? null : new Claim(result.Model.HintName, result.Path);

        /// <summary>The result as is, or without its model and with LD0013 when an earlier spec owns the name.</summary>
        public BuildResult Check(BuildResult result)
        {
            if (result.Model == null) return result;
            var owner = Claims.FirstOrDefault(c => string.Equals(c.ClassName, result.Model.HintName, StringComparison.OrdinalIgnoreCase));
            if (owner == null || owner.Path == result.Path) return result;
            var d = new DiagnosticInfo(SpecDiagnosticIds.DuplicateName,
                $"class '{result.Model.ClassName.TrimStart('@')}' is already generated from {owner.Path}; give each spec a unique 'name'",
                result.Path, default, default);
            return result with { Model = null, Diagnostics = result.Diagnostics.Concat(new[] { d }).ToEquatableArray() };
        }
    }
}
