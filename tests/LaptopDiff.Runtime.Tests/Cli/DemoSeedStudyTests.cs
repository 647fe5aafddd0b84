using LaptopDiff.Cli.Commands.Demo;

namespace LaptopDiff.Runtime.Tests.Cli;

public class DemoSeedStudyTests
{
    [Fact]
    public void PairedDifferenceIsTheMeanDifferenceWithItsStudentTInterval()
    {
        // differences 1, 2, 3: mean 2, sample sd 1; t(0.975, 2 df) = 4.302653 (tables), half-width 4.302653 / sqrt(3)
        var (mean, low, high) = DemoSeedStudy.PairedDifference([1.5, 2.0, 3.25], [0.5, 0.0, 0.25]);
        Assert.Equal(2.0, mean, 12);
        Assert.Equal(2.0 - 2.484138, low, 5);
        Assert.Equal(2.0 + 2.484138, high, 5);
    }

    [Fact]
    public void PairedDifferenceNeedsTwoPairs() =>
        Assert.Throws<ArgumentException>(() => DemoSeedStudy.PairedDifference([1.0], [0.0]));
}
