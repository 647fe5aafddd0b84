// netstandard2.0 lacks this marker type; records and init-only setters need it.
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit { }
}
