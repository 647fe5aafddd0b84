using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace LaptopDiff.Generators.Pipeline
{
    /// <summary>The consumer's MSBuild properties the generator reads (made visible by build/LaptopDiff.props).</summary>
    internal sealed record GeneratorOptions(string Namespace)
    {
        public const string DefaultNamespace = "LaptopDiff.Models";

        public static GeneratorOptions From(AnalyzerConfigOptions global) =>
            new GeneratorOptions(global.TryGetValue("build_property.RootNamespace", out var ns) ? ToNamespace(ns) : DefaultNamespace);

        /// <summary>
        /// A valid C# namespace from a RootNamespace: the SDK derives it from the project name, which may
        /// hold '-' or start with a digit (<c>my-app</c> gives <c>my_app</c>, as Visual Studio does).
        /// </summary>
        public static string ToNamespace(string? rootNamespace)
        {
            var parts = (rootNamespace ?? "").Split('.')
                .Select(p => p.Trim())
                .Where(p => p.Length > 0)
                .Select(Identifier)
                .ToList();
            return parts.Count == 0 ? DefaultNamespace : string.Join(".", parts);
        }

        /// <summary>A C# identifier: invalid characters become '_', keywords get '@'.</summary>
        public static string Identifier(string name)
        {
            var b = new StringBuilder(name.Length + 1);
            foreach (var c in name) b.Append(SyntaxFacts.IsIdentifierPartCharacter(c) ? c : '_');
            if (!SyntaxFacts.IsIdentifierStartCharacter(b[0])) b.Insert(0, '_');
            var id = b.ToString();
            bool keyword = SyntaxFacts.GetKeywordKind(id) != SyntaxKind.None || id == "var" || id == "dynamic" || id == "record";
            return keyword ? "@" + id : id;
        }
    }
}
