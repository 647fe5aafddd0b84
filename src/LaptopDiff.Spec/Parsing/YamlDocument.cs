using System;
using System.Collections.Generic;
using System.IO;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LaptopDiff.Spec
{
    /// <summary>Loads a spec or criterion file's root mapping; every problem is a positioned diagnostic, never an exception.</summary>
    internal static class YamlDocument
    {
        /// <summary>A reader of the root mapping, or null with the reason added to <paramref name="diagnostics"/>.</summary>
        public static YamlMapReader? Load(string path, string? text, YamlDialect dialect, List<SpecDiagnostic> diagnostics)
        {
            void Report(SourceSpan span, string message) => diagnostics.Add(new SpecDiagnostic(dialect.SyntaxId, message, path, span));
            if (text == null)
            {
                Report(default, $"the {dialect.FileNoun} could not be read");
                return null;
            }
            try
            {
                if (YamlSafety.TooDeep(text, dialect.MaxDepth) is SourceSpan deep)
                {
                    Report(deep, $"{dialect.Syntax} nested more than {dialect.MaxDepth} levels deep; {dialect.DepthNeeded}");
                    return null;
                }
                var stream = new YamlStream();
                stream.Load(new StringReader(text));
                if (stream.Documents.Count == 0 || !(stream.Documents[0].RootNode is YamlMappingNode root))
                {
                    Report(new SourceSpan(1, 1, 1, 1), dialect.RootShape);
                    return null;
                }
                return new YamlMapReader(root, path, dialect.RootContext, isRoot: true, dialect, diagnostics);
            }
            catch (YamlException e)
            {
                Report(new SourceSpan((int)e.Start.Line, (int)e.Start.Column, (int)e.End.Line, (int)e.End.Column),
                    $"malformed {dialect.Syntax}: " + YamlSafety.CleanMessage(e.Message));
            }
            catch (Exception e) when (e is InvalidOperationException || e is ArgumentException)
            {
                // YamlDotNet throws these (not YamlException) for some malformed input, e.g. duplicate anchors
                Report(YamlSafety.LastGoodPosition(text), $"malformed {dialect.Syntax} after this point (an unclosed '[' or '{{'?): " + e.Message);
            }
            return null;
        }
    }
}
