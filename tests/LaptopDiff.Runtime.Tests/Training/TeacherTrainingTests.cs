using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Tests.Cli;
using LaptopDiff.Runtime.Training;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Training;

public class TeacherTrainingTests
{
    // One intra-op thread: on a loaded 2-core machine libtorch's thread pool makes tiny steps ~15x slower; results do not depend on it.
    public TeacherTrainingTests() => set_num_threads(1);

    private static TrainRequest Request(string spec, string data, string output, int steps = 8, bool resume = false, double lr = 1e-3) => new()
    {
        Layout = SpecFiles.LoadLayout(spec),
        DataPath = data,
        Conditioner = ConditionerSource.Parse("new:3:2"),
        OutputDir = output,
        Resume = resume,
        Options = new TrainingOptions
        {
            Steps = steps, BatchSize = 4, GradientAccumulation = 2, LearningRate = lr, WarmupSteps = 2, Decay = LearningRateDecay.Cosine,
            EmaDecay = 0.9, CheckpointEvery = 3, KeepCheckpoints = 2, Seed = 5,
        },
    };

    /// <summary>Simulates SIGKILL: the step callback throws right after step <paramref name="at"/>, so nothing past the last checkpoint is saved.</summary>
    private sealed class Killed : Exception;

    [Fact]
    public void AKilledRunResumedFromItsCheckpointEndsWithTheUninterruptedRunsWeights()
    {
        using var temp = new TempFolder();
        var spec = TinyDigits.WriteSpec(temp);
        var data = TinyDigits.WriteData(temp);
        string straight = temp.File("straight"), killed = temp.File("killed");

        var full = TeacherTraining.Run(Request(spec, data, straight), CancellationToken.None);
        Assert.Equal(TrainingEnd.Completed, full.End);

        Assert.Throws<Killed>(() => TeacherTraining.Run(Request(spec, data, killed), CancellationToken.None, p => { if (p.Step == 5) throw new Killed(); }));
        Assert.Equal(new[] { 3 }, TrainingCheckpoint.List(killed).Select(c => c.Step));        // step 4 and 5 were lost with the kill
        Assert.False(File.Exists(Path.Combine(killed, TeacherTraining.WeightsFile)));
        var resumed = TeacherTraining.Run(Request(spec, data, killed, resume: true), CancellationToken.None);
        Assert.Equal(3, resumed.ResumedFrom);
        Assert.Equal(8, resumed.Step);

        foreach (var file in new[] { TeacherTraining.WeightsFile, "unet.conditioner.safetensors", TeacherTraining.EmaWeightsFile, "unet-ema.conditioner.safetensors" })
        {
            using var scope = NewDisposeScope();
            var a = SafetensorsFile.Load(Path.Combine(straight, file));
            var b = SafetensorsFile.Load(Path.Combine(killed, file));
            Assert.Equal(a.Keys, b.Keys);
            foreach (var (key, t) in a)
                Assert.True(t.equal(b[key]).all().item<bool>(), $"{file}: {key} differs by {(t - b[key]).abs().max().item<float>()}");
        }
        var logA = TrainingLog.Read(Path.Combine(straight, TrainingLog.FileName));
        var logB = TrainingLog.Read(Path.Combine(killed, TrainingLog.FileName));
        Assert.Equal(Enumerable.Range(1, 8), logB.Select(l => (int)l["step"]));          // the killed run's steps 4-5 were replaced, not duplicated
        Assert.Equal(logA.Select(l => l[DenoisingObjective.TaskTerm]), logB.Select(l => l[DenoisingObjective.TaskTerm]));
        Assert.Equal(new[] { 6, 8 }, TrainingCheckpoint.List(killed).Select(c => c.Step));  // the last K = 2 kept
        Assert.True(logA[^1][DenoisingObjective.TaskTerm] < logA[0][DenoisingObjective.TaskTerm], "the task loss should fall over 8 steps");
    }

    [Fact]
    public void ACheckpointOfAnotherRunIsRefusedAndAnExistingRunIsNotOverwritten()
    {
        using var temp = new TempFolder();
        var spec = TinyDigits.WriteSpec(temp);
        var data = TinyDigits.WriteData(temp);
        var output = temp.File("run");
        TeacherTraining.Run(Request(spec, data, output, steps: 3), CancellationToken.None);
        var before = File.ReadAllBytes(TrainingCheckpoint.List(output)[^1].Path);

        var e = Assert.Throws<InputException>(() => TeacherTraining.Run(Request(spec, data, output, steps: 3, resume: true, lr: 2e-3), CancellationToken.None));
        Assert.Contains("another run: lr is 0.001 there but 0.002 in this run", e.Message);
        var other = TinyDigits.WriteData(temp, name: "other.safetensors", seed: 9);
        e = Assert.Throws<InputException>(() => TeacherTraining.Run(Request(spec, other, output, steps: 3, resume: true), CancellationToken.None));
        Assert.Contains("another run: data is sha256:", e.Message);
        e = Assert.Throws<InputException>(() => TeacherTraining.Run(Request(spec, data, output, steps: 3), CancellationToken.None));
        Assert.Contains("already holds checkpoints; resume that run", e.Message);
        Assert.Equal([nameof(TrainRequest.Resume), nameof(TrainRequest.OutputDir)], e.Settings);
        Assert.Equal(before, File.ReadAllBytes(TrainingCheckpoint.List(output)[^1].Path));
    }

    [Fact]
    public void ADivergingRunStopsNamingTheStepAndTermAndKeepsTheLastGoodCheckpoint()
    {
        using var temp = new TempFolder();
        var spec = TinyDigits.WriteSpec(temp);
        var data = TinyDigits.WriteData(temp);
        var output = temp.File("run");
        var request = Request(spec, data, output, steps: 20, lr: 1e30);
        request = request with { Options = request.Options with { WarmupSteps = 0, Decay = LearningRateDecay.Constant, GradientClip = 0, CheckpointEvery = 1 } };
        var e = Assert.Throws<NonFiniteLossException>(() => TeacherTraining.Run(request, CancellationToken.None));
        Assert.Matches(@"^step \d+: (loss term 'task'|the gradient norm) is (NaN|Infinity|-Infinity); stopped\. The last good checkpoint is '.*step-\d+\.safetensors'", e.Message);
        var checkpoints = TrainingCheckpoint.List(output);
        Assert.Equal(e.Step - 1, checkpoints[^1].Step);
        Assert.False(File.Exists(Path.Combine(output, TeacherTraining.WeightsFile)));
    }
}
