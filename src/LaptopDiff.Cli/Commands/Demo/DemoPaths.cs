using LaptopDiff.Runtime.Training;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>Where the demo reads the shipped digits model and writes each step's outputs inside its run folder.</summary>
public sealed record DemoPaths(string ModelsDir, string RunDir, string TeacherWeights)
{
    public string TeacherSpec => Path.Combine(ModelsDir, "digits.unet.yaml");
    public string TeacherConditioner => TeacherTraining.ConditionerPathFor(TeacherWeights);
    public string Mnist => Path.Combine(ModelsDir, "digits", "mnist.safetensors");
    public string Classifier => Path.Combine(ModelsDir, "digits", "classifier.safetensors");

    public string Data(string file) => Path.Combine(RunDir, "data", file);
    public string Pruning(string file) => Path.Combine(RunDir, "pruning", file);
    public string Student(string method) => Path.Combine(RunDir, "students", method);
    public string Eval(string method) => Path.Combine(RunDir, "eval", method + ".json");
    public string Grid(string method) => Path.Combine(RunDir, "samples", method + ".png");
    public string Run(string file) => Path.Combine(RunDir, file);

    public IEnumerable<string> Folders => ["data", "pruning", "students", "eval", "samples"];
}
