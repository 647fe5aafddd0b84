using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Schedulers;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// The DDPM training schedule a pipeline's scheduler config declares, read as diffusers' <c>from_config</c> reads it
/// (<see cref="SchedulerConfig"/>): what its U-Net is trained with. Training implements eps-prediction only.
/// </summary>
public static class SchedulerNoise
{
    public static NoiseSchedule Read(PipelineFolder folder)
    {
        var path = folder.Scheduler.ConfigPath!;
        var options = SchedulerConfig.Load(path).For(SchedulerKind.Ddim).Options;
        if (options.Prediction != PredictionType.Epsilon)
            throw new DiffusersConfigException(path, "scheduler_config.json", $"prediction_type is {options.Prediction}; training implements eps-prediction only");
        return options.Schedule;
    }
}
