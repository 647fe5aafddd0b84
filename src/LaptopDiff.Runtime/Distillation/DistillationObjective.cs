using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Distillation;

/// <summary>
/// LAPTOP-Diff retraining of a pruned student by a frozen teacher:
/// L = l_task ||eps - eps_S||^2 + l_out ||eps_T - eps_S||^2 + l_feat sum_k ||F_T^k - F_S^k||^2 / ||F_T^k||^2
/// over the stage-end features (every down stage, mid, every up stage; vanilla: per-stage MSE instead).
/// Output terms are means over samples of the per-sample MSE. Logged terms: <c>loss</c>, <c>task</c>,
/// <c>out</c>, <c>feat</c> (the weighted sum), and per stage s: <c>feat/s</c> (the term as it enters the
/// loss, before l_feat), <c>feat_norm/s</c> (the normalized ratio), <c>feat_mse/s</c> (the un-normalized
/// per-element MSE, comparable across runs) and <c>teacher_norm/s</c> (||F_T^s|| per sample).
/// The conditioner, if any, is the teacher's and stays frozen. The teacher runs without autograd, in float32 or, with
/// <see cref="DistillationOptions.TeacherDtype"/> bfloat16, cast to it here (its outputs come back as float32).
/// </summary>
public sealed class DistillationObjective : ITrainingObjective
{
    private readonly UNet2DCondition _teacher;
    private readonly UNet2DCondition _student;
    private readonly ClassConditioner? _conditioner;
    private readonly DistillationOptions _options;
    private readonly IFeatureLoss _featureLoss;
    private readonly string[] _stages;

    public DistillationObjective(UNet2DCondition teacher, UNet2DCondition student, ClassConditioner? conditioner,
        DistillationOptions options, IFeatureLoss featureLoss)
    {
        _teacher = teacher;
        _student = student;
        _conditioner = conditioner;
        _options = options.Validate();
        _featureLoss = featureLoss;
        _stages = teacher.Layout.FeatureStages.ToArray();
        if (!_stages.SequenceEqual(student.Layout.FeatureStages))
            throw new ArgumentException("teacher and student have different feature stages");
        Freeze(teacher);
        if (_options.TeacherDtype != ScalarType.Float32) ModuleDevice.ToType(teacher, _options.TeacherDtype);
        if (conditioner != null) Freeze(conditioner);
        Trained = [("unet", student)];
    }

    public IReadOnlyList<(string Prefix, nn.Module Module)> Trained { get; }

    public IReadOnlyList<string> Stages => _stages;

    public LossTerms Loss(TrainingBatch batch)
    {
        using var scope = NewDisposeScope();
        bool features = _options.FeatureKd != FeatureKd.None;
        UNetInputs inputs;
        using (no_grad()) inputs = batch.Inputs(_conditioner);
        UNetOutput teacherOut;
        using (no_grad()) teacherOut = TeacherForward(inputs);                  // frozen: no graph, no stored activations
        using var teacherOutput = teacherOut;
        using var studentOut = _student.Forward(inputs, features: features, checkpointStages: _options.CheckpointActivations);

        var task = Ops.MeanSquaredError(studentOut.Sample, batch.Noise);
        var output = Ops.MeanSquaredError(studentOut.Sample, teacherOut.Sample);
        var total = task * _options.TaskWeight + output * _options.OutputWeight;
        var terms = new List<KeyValuePair<string, double>>();
        Tensor? feat = null;
        var perStage = new List<KeyValuePair<string, double>>();
        long batchSize = batch.Noisy.shape[0];

        var teacherFeatures = _stages.Select(s => teacherOut.Features![s]).ToArray();
        double[] errors, norms;
        if (features)
        {
            var studentFeatures = _stages.Select(s => studentOut.Features![s]).ToArray();
            for (int k = 0; k < _stages.Length; k++)
                if (!studentFeatures[k].shape.SequenceEqual(teacherFeatures[k].shape))
                    throw new InvalidOperationException($"stage {_stages[k]}: student feature {Weights.Shapes.Format(studentFeatures[k].shape)} != teacher {Weights.Shapes.Format(teacherFeatures[k].shape)}");
            bool normalized = _options.FeatureKd == FeatureKd.Normalized;
            var weights = teacherFeatures.Select(f => _options.FeatureWeight / (normalized ? 1.0 : f.numel())).ToArray();
            feat = _featureLoss.Apply(teacherFeatures, studentFeatures, weights, normalized, out errors, out norms);
            total = total + feat;
        }
        else
        {
            errors = new double[_stages.Length];
            norms = HostScalars.Read(teacherFeatures.Select(f => f.to_type(ScalarType.Float64).pow(2).sum()).ToArray());
        }

        for (int k = 0; k < _stages.Length; k++)
        {
            double numel = teacherFeatures[k].numel();
            double ratio = errors[k] / Math.Max(norms[k], 1e-12), mse = errors[k] / numel;
            if (features)
            {
                perStage.Add(KeyValuePair.Create($"feat/{_stages[k]}", _options.FeatureKd == FeatureKd.Normalized ? ratio : mse));
                perStage.Add(KeyValuePair.Create($"feat_norm/{_stages[k]}", ratio));
                perStage.Add(KeyValuePair.Create($"feat_mse/{_stages[k]}", mse));
            }
            perStage.Add(KeyValuePair.Create($"teacher_norm/{_stages[k]}", Math.Sqrt(norms[k] / batchSize)));
        }
        var values = HostScalars.Read(total.to_type(ScalarType.Float32), task, output, feat?.to_type(ScalarType.Float32) ?? zeros_like(task));
        terms.Add(KeyValuePair.Create("loss", values[0]));
        terms.Add(KeyValuePair.Create("task", values[1]));
        terms.Add(KeyValuePair.Create("out", values[2]));
        if (features) terms.Add(KeyValuePair.Create("feat", values[3]));
        terms.AddRange(perStage);
        return new LossTerms(total.MoveToOuterDisposeScope(), terms);
    }

    /// <summary>The teacher's output and features in float32, run in <see cref="DistillationOptions.TeacherDtype"/>.</summary>
    private UNetOutput TeacherForward(UNetInputs inputs)
    {
        var dtype = _options.TeacherDtype;
        if (dtype == ScalarType.Float32) return _teacher.Forward(inputs, features: true);
        using var scope = NewDisposeScope();
        var cast = inputs with
        {
            Sample = inputs.Sample.to_type(dtype),
            EncoderHiddenStates = inputs.EncoderHiddenStates.to_type(dtype),
            TextEmbeds = inputs.TextEmbeds?.to_type(dtype),
            TimeIds = inputs.TimeIds?.to_type(dtype),
        };
        using var output = _teacher.Forward(cast, features: true);
        return new UNetOutput(output.Sample.to_type(ScalarType.Float32).MoveToOuterDisposeScope(),
            output.Features!.ToDictionary(f => f.Key, f => f.Value.to_type(ScalarType.Float32).MoveToOuterDisposeScope()));
    }

    private static void Freeze(nn.Module module)
    {
        module.eval();
        foreach (var p in module.parameters()) p.requires_grad = false;
    }
}
