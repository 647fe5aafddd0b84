namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// Where the demo reads the teacher pipeline folder and the shipped digits files (MNIST, the digit classifier), and
/// writes each step's outputs inside its run folder.
/// </summary>
public sealed record DemoPaths(string ModelsDir, string Model, string RunDir)
{
    public string Mnist => Path.Combine(ModelsDir, "digits", "mnist.safetensors");
    public string Classifier => Path.Combine(ModelsDir, "digits", "classifier.safetensors");
    /// <summary>The teacher U-Net's diffusers config: the base every pruned spec names.</summary>
    public string TeacherConfig => Path.Combine(Model, "unet", "config.json");

    public string Data(string file) => Path.Combine(RunDir, "data", file);
    public string Pruning(string file) => Path.Combine(RunDir, "pruning", file);
    public string PrunedSpec(DemoMethod m) => Pruning(DemoMethod.PrunedName(m.Pruning) + ".unet.yaml");
    public string Student(string method) => Path.Combine(RunDir, "students", method);
    public string Eval(string method) => Path.Combine(RunDir, "eval", method + ".json");
    /// <summary>The teacher's decoded samples of the training-style captions, the reference of every student's image MSE.</summary>
    public string TeacherSamples => Path.Combine(RunDir, "eval", "teacher-samples.safetensors");
    public string Grid(string method) => Path.Combine(RunDir, "samples", method + ".png");
    public string HeldOutGrid(string method) => Path.Combine(RunDir, "samples", method + "-heldout.png");
    public string Run(string file) => Path.Combine(RunDir, file);

    public IEnumerable<string> Folders => ["data", "pruning", "students", "eval", "samples"];
}
