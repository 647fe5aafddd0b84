using System.Text.Json;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Diffusers;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// The DDPM training schedule a pipeline's scheduler config declares (<c>beta_schedule</c>, <c>beta_start</c>,
/// <c>beta_end</c>, <c>num_train_timesteps</c>, diffusers' defaults where absent): what its U-Net was trained with.
/// Only eps-prediction and the two beta schedules LaptopDiff implements are accepted.
/// </summary>
public static class SchedulerNoise
{
    public static NoiseSchedule Read(PipelineFolder folder)
    {
        var path = folder.Scheduler.ConfigPath!;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new DiffusersConfigException(path, "scheduler_config.json", $"not valid JSON ({e.Message})"); }
        using (doc)
        {
            var c = new ConfigReader(doc.RootElement, path);
            if (c.Has("trained_betas")) throw c.Unsupported("trained_betas", "a list", "explicit betas are not implemented");
            var prediction = c.String("prediction_type") ?? "epsilon";
            if (prediction != "epsilon") throw c.Unsupported("prediction_type", prediction, "only eps-prediction is implemented");
            var kind = c.String("beta_schedule") ?? "linear";
            var schedule = new NoiseSchedule
            {
                Kind = kind switch
                {
                    "linear" => BetaSchedule.Linear,
                    "scaled_linear" => BetaSchedule.ScaledLinear,
                    _ => throw c.Unsupported("beta_schedule", kind, "expected linear or scaled_linear"),
                },
                BetaStart = c.Double("beta_start") ?? 0.0001,
                BetaEnd = c.Double("beta_end") ?? 0.02,
                TrainSteps = c.Int("num_train_timesteps") ?? 1000,
            };
            try { return schedule.Validate(); }
            catch (ArgumentException e) { throw new DiffusersConfigException(path, "scheduler_config.json", e.Message); }
        }
    }
}
