using LaptopDiff.Runtime.Evaluation;
namespace LaptopDiff.Digits;

/// <summary>The two fixed, disjoint parts of <c>models/digits/mnist.safetensors</c>.</summary>
public enum MnistSplit
{
    /// <summary>9,000 digits: teacher training and the classifier's training.</summary>
    Train,
    /// <summary>1,000 digits: classifier accuracy and the real side of the Frechet distance.</summary>
    HeldOut,
}
