using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Pruning.Additivity;

namespace LaptopDiff.Runtime.Tests.Pruning.Additivity;

/// <summary>The check on tiny-sd15 with fixture weights: real forwards, structural facts, outputs.</summary>
public class AdditivityCheckTests
{
    [Fact]
    public void RealLossesComeFromMaskedForwardsAndMatchSingleUnitCriteria()
    {
        using var model = TinyAdditivity.LoadModel();
        using var inputs = AdditivityInputs.Synthetic(model.Layout, samples: 6, seed: 5, batchSize: 4, tokens: 8);   // batches of 4 and 2
        var naive = TinyAdditivity.NaiveOutputLosses(model, inputs);
        using var evaluator = new AdditivityEvaluator(model, inputs);

        Assert.Equal(0.0, evaluator.OutputLoss(Array.Empty<string>()));
        foreach (var (unit, loss) in naive)
        {
            Assert.True(loss > 0, unit);
            Assert.Equal(1.0, evaluator.OutputLoss(new[] { unit }) / loss, 5);
        }
        foreach (var s in evaluator.SingleUnits())
        {
            Assert.Equal(1.0, s.OutputLoss / naive[s.Unit], 5);
            Assert.True(s.FeatureLoss > 0 && double.IsFinite(s.FeatureLoss), s.Unit);
        }
    }

    [Fact]
    public void ReportPredictsSumsAndRendersPlotAndJson()
    {
        using var model = TinyAdditivity.LoadModel();
        using var inputs = AdditivityInputs.Synthetic(model.Layout, samples: 4, seed: 1, batchSize: 4, tokens: 8);
        var naive = TinyAdditivity.NaiveOutputLosses(model, inputs);
        var report = AdditivityCheck.Run(model, inputs, TinyAdditivity.Criterion(model.Layout, naive),
            new AdditivityOptions { Subsets = 6, MinRatio = 0.05, MaxRatio = 0.4, Seed = 2 });

        Assert.Equal(4, report.Criteria.Count);
        Assert.NotEmpty(report.Subsets);
        foreach (var r in report.Subsets)
        {
            Assert.True(r.RealLoss > 0);
            Assert.Equal(r.Subset.Units.Sum(u => naive[u]), r.Predictions[AdditivityCriteria.OutputLoss], 9);
            Assert.Equal(1.0, r.Predictions[AdditivityCriteria.OutputLossHere] / r.Predictions[AdditivityCriteria.OutputLoss], 5);
        }
        var output = report.Correlations.Single(c => c.Criterion == AdditivityCriteria.OutputLoss);
        Assert.InRange(output.Pearson, -1, 1);
        Assert.InRange(output.Spearman, -1, 1);
        Assert.Equal(1.0, report.Scores[AdditivityCriteria.Magnitude].Values.Sum(), 9);

        Assert.True(TinyAdditivity.IsPng(AdditivityPlot.RenderPng(report)));
        var json = JsonNode.Parse(AdditivityJson.Write(AdditivityJson.ToJson(report)))!;
        Assert.Equal(report.Subsets.Count, json["subsets"]!.AsArray().Count);
        Assert.NotNull(json["correlations"]![AdditivityCriteria.FeatureLoss]!["spearman"]);
        Assert.Contains("| output_loss |", AdditivityMarkdown.Write(report, "additivity.png"));
    }
}
