using ScottPlot;

namespace LaptopDiff.Runtime.Plots;

/// <summary>Renders a plot to PNG bytes, falling back to a text-free plot where no usable font exists.</summary>
public static class PlotImages
{
    /// <param name="build">Builds the plot, with titles, labels and legends when its argument is true.</param>
    public static byte[] Png(Func<bool, Plot> build, int widthPx = 900, int heightPx = 600)
    {
        try { return build(true).GetImageBytes(widthPx, heightPx, ImageFormat.Png); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Text needs a font (fonts-dejavu-core); without a usable one, still draw the data.
            return build(false).GetImageBytes(widthPx, heightPx, ImageFormat.Png);
        }
    }
}
