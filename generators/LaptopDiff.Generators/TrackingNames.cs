namespace LaptopDiff.Generators
{
    /// <summary>
    /// Names of the generator's incremental steps (<c>WithTrackingName</c>), so tests can assert which
    /// steps ran and which came from the cache.
    /// </summary>
    public static class TrackingNames
    {
        /// <summary>Each <c>*.unet.yaml</c> text parsed into a spec and its diagnostics.</summary>
        public const string Parse = nameof(Parse);
        /// <summary>Every parsed file, indexed by file name, for <c>base:</c> references.</summary>
        public const string BaseIndex = nameof(BaseIndex);
        /// <summary>Each spec with its <c>base:</c> merged in (pruned specs).</summary>
        public const string Resolve = nameof(Resolve);
        /// <summary>The consumer's namespace (<c>build_property.RootNamespace</c>).</summary>
        public const string Options = nameof(Options);
        /// <summary>Each spec expanded into its layout and turned into the emit model.</summary>
        public const string Build = nameof(Build);
        /// <summary>Class names claimed by the specs of the build.</summary>
        public const string ClassNames = nameof(ClassNames);
        /// <summary>Each build result after the one-class-per-name check.</summary>
        public const string Unique = nameof(Unique);
        /// <summary>The diagnostics of each spec (reported apart from the source).</summary>
        public const string Diagnostics = nameof(Diagnostics);
        /// <summary>The emit model of each valid spec.</summary>
        public const string Models = nameof(Models);
        /// <summary>Each criterion file of a <c>&lt;LaptopDiffPrune&gt;</c> item parsed, with its spec, ratios and names.</summary>
        public const string PruneParse = nameof(PruneParse);
        /// <summary>Each costs file of a <c>&lt;LaptopDiffPrune&gt;</c> item parsed.</summary>
        public const string CostsParse = nameof(CostsParse);
        /// <summary>Every costs file of the build, for the items that name one.</summary>
        public const string CostsIndex = nameof(CostsIndex);
        /// <summary>Each prune request solved by the exact knapsack into one resolved pruned spec per ratio.</summary>
        public const string PruneSolve = nameof(PruneSolve);
        /// <summary>Each pruned spec of a prune request expanded into its layout and emit model.</summary>
        public const string PruneBuild = nameof(PruneBuild);
    }
}
