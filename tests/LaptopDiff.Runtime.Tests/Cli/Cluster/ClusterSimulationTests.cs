using System.Globalization;
using System.Text.RegularExpressions;
using LaptopDiff.Runtime.Pruning;
using LaptopDiff.Spec;
using Xunit.Abstractions;
using YamlDotNet.RepresentationModel;

namespace LaptopDiff.Runtime.Tests.Cli.Cluster;

/// <summary>
/// build/cluster/ run as the schedulers would run it, on this machine, each shard a real <c>laptop-diff</c> process
/// that finds its shard with <c>--shard auto</c>: the Slurm submit script with a stand-in sbatch (Cluster/sbatch:
/// array tasks 1 to 3 at once, with Slurm's array variables), and the Kubernetes Jobs' container commands, once per
/// completion index with JOB_COMPLETION_INDEX. Both end in merge, and the merged criterion must be the
/// single-process sweep's: each unit's loss within 1e-6 relative, and byte for byte, as the batching is the same
/// (all but the "created" time; the records differ only in teacher forwards and seconds).
/// </summary>
public sealed class ClusterSimulationTests(ClusterSimulation sim, ITestOutputHelper output) : IClassFixture<ClusterSimulation>
{
    private static readonly string ClusterDir = Path.Combine(TestPaths.RepoRoot, "build", "cluster");

    [Fact]
    public void The_Slurm_array_and_its_merge_job_give_the_single_process_criterion()
    {
        var outDir = Path.Combine(sim.Root, "slurm");
        var state = Directory.CreateDirectory(Path.Combine(sim.Root, "sbatch-state")).FullName;
        var submit = sim.Start("bash", [Path.Combine(ClusterDir, "slurm", "submit.sh")], new Dictionary<string, string>
        {
            ["SPEC"] = ClusterSimulation.Spec, ["WEIGHTS"] = ClusterSimulation.Weights, ["CALIBRATION"] = sim.Calibration,
            ["OUT_DIR"] = outDir, ["SHARDS"] = ClusterSimulation.Shards.ToString(CultureInfo.InvariantCulture),
            ["THREADS"] = ClusterSimulation.Threads, ["BATCH"] = ClusterSimulation.Batch, ["SEED"] = ClusterSimulation.Seed,
            ["SBATCH_STUB_STATE"] = state,
        }).Wait();
        Assert.True(submit.ExitCode == 0, submit + "\n" + Logs(state));
        Assert.Contains("submitted: sweep array 101 (3 tasks), merge job 102 after it", submit.Out);

        // --array=1-3: SLURM_ARRAY_TASK_MIN is 1, so task k is shard k/3
        for (int k = 1; k <= ClusterSimulation.Shards; k++)
        {
            var record = SweepFiles.ReadRecord(Path.Combine(outDir, "shards", $"shard-{k}.sweep.json"));
            Assert.Equal(new SweepShard(k, ClusterSimulation.Shards), record.Identity.Shard);
            Assert.Contains($"shard {k}/3 (Slurm array task {k}: SLURM_ARRAY_TASK_MIN=1, step 1, 3 tasks)", File.ReadAllText(Path.Combine(state, $"101-{k}.log")));
        }
        AssertSingleProcessCriterion(Path.Combine(outDir, "criterion.json"));
    }

    [Fact]
    public void The_Kubernetes_indexed_job_and_its_merge_job_give_the_single_process_criterion()
    {
        var sweepDocs = Manifest(Path.Combine(ClusterDir, "kubernetes", "sweep.yaml"));
        var claim = sweepDocs.Single(d => Text(d, "kind") == "PersistentVolumeClaim");
        Assert.Contains("ReadWriteMany", ((YamlSequenceNode)Node(claim, "spec", "accessModes")).Select(n => n.ToString()));
        var job = sweepDocs.Single(d => Text(d, "kind") == "Job");
        Assert.Equal("Indexed", Text(job, "spec", "completionMode"));
        int completions = int.Parse(Text(job, "spec", "completions"), CultureInfo.InvariantCulture);
        Assert.InRange(int.Parse(Text(job, "spec", "parallelism"), CultureInfo.InvariantCulture), 1, completions);
        var sweep = Container(job, Text(claim, "metadata", "name"));
        Assert.Equal(completions.ToString(CultureInfo.InvariantCulture), sweep.Env["SHARDS"]);
        Assert.Equal("limits.cpu", Text(sweep.EnvSources["THREADS"], "resourceFieldRef", "resource"));
        foreach (var path in new[] { "DATA", "SPEC", "WEIGHTS", "CALIBRATION" }) Assert.StartsWith(sweep.MountPath, sweep.Env[path]);

        // Run as the Job controller would, with the fixture's model and 3 completions instead of the manifest's
        var data = Path.Combine(sim.Root, "k8s-volume");
        var settings = new Dictionary<string, string>
        {
            ["SPEC"] = ClusterSimulation.Spec, ["WEIGHTS"] = ClusterSimulation.Weights, ["CALIBRATION"] = sim.Calibration,
            ["SHARDS"] = ClusterSimulation.Shards.ToString(CultureInfo.InvariantCulture),
            ["THREADS"] = ClusterSimulation.Threads, ["BATCH"] = ClusterSimulation.Batch, ["SEED"] = ClusterSimulation.Seed,
        };
        var pods = Enumerable.Range(0, ClusterSimulation.Shards).Select(index =>
            sim.Start(sweep.Command[0], [.. sweep.Command.Skip(1), .. sweep.Args], sweep.Environment(data, settings,
                new() { ["JOB_COMPLETION_INDEX"] = index.ToString(CultureInfo.InvariantCulture) }))).ToList();
        foreach (var pod in pods) pod.Check();
        for (int k = 1; k <= ClusterSimulation.Shards; k++)
            Assert.Equal(new SweepShard(k, ClusterSimulation.Shards), SweepFiles.ReadRecord(Path.Combine(data, "shards", $"shard-{k}.sweep.json")).Identity.Shard);

        var mergeJob = Manifest(Path.Combine(ClusterDir, "kubernetes", "merge.yaml")).Single(d => Text(d, "kind") == "Job");
        var merge = Container(mergeJob, Text(claim, "metadata", "name"));
        Assert.Equal(sweep.Image, merge.Image);
        Assert.Equal(sweep.Env["SPEC"], merge.Env["SPEC"]);
        var mergeEnvironment = merge.Environment(data, new() { ["SPEC"] = ClusterSimulation.Spec });
        sim.Start(merge.Command[0], [.. merge.Command.Skip(1), .. merge.Args], mergeEnvironment).Check();
        AssertSingleProcessCriterion(mergeEnvironment["CRITERION"]);
    }

    [Fact]
    public void A_process_started_with_unusable_scheduler_variables_stops_with_an_input_error()
    {
        string[] sweep = ["sweep", "--spec", ClusterSimulation.Spec, "--weights", ClusterSimulation.Weights, "--calibration", sim.Calibration,
            "--output", Path.Combine(sim.Root, "refused.json"), "--shard", "auto"];
        var kubernetes = sim.Start("laptop-diff", sweep, new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "1" }).Wait();
        Assert.Equal(2, kubernetes.ExitCode);
        Assert.Contains("JOB_COMPLETION_INDEX=1 (a Kubernetes Indexed Job) gives no shard count; add --shards N", kubernetes.Error);
        var slurm = sim.Start("laptop-diff", [.. sweep, "--shards", "4"], new Dictionary<string, string>
            { ["SLURM_ARRAY_TASK_ID"] = "2", ["SLURM_ARRAY_TASK_MIN"] = "1", ["SLURM_ARRAY_TASK_COUNT"] = "3" }).Wait();
        Assert.Equal(2, slurm.ExitCode);
        Assert.Contains("--shards 4 disagrees with the Slurm array's SLURM_ARRAY_TASK_COUNT=3", slurm.Error);
        Assert.False(File.Exists(Path.Combine(sim.Root, "refused.json.partial")));
    }

    private void AssertSingleProcessCriterion(string mergedPath)
    {
        var single = Read(sim.SingleProcessCriterion);
        var merged = Read(mergedPath);
        Assert.Equal(single.Units.Select(u => u.Id), merged.Units.Select(u => u.Id));
        double worst = single.Units.Zip(merged.Units).Max(p => Math.Abs(p.Second.Loss - p.First.Loss) / Math.Abs(p.First.Loss));
        output.WriteLine($"{Path.GetFileName(Path.GetDirectoryName(mergedPath))}: {merged.Units.Count} units, max relative loss difference {worst:R}");
        Assert.True(worst <= 1e-6, $"max relative loss difference {worst:R}");

        // byte for byte but when each was written and what each run cost
        Assert.Equal(WithoutLines(File.ReadAllText(sim.SingleProcessCriterion), "created"), WithoutLines(File.ReadAllText(mergedPath), "created"));
        var singleRecord = File.ReadAllText(SweepFiles.RecordPath(sim.SingleProcessCriterion));
        var mergedRecord = File.ReadAllText(SweepFiles.RecordPath(mergedPath));
        Assert.Equal(WithoutLines(singleRecord, "teacher_forwards", "elapsed_seconds"), WithoutLines(mergedRecord, "teacher_forwards", "elapsed_seconds"));
        Assert.Equal(ClusterSimulation.BatchesPerShard, SweepFiles.ReadRecord(SweepFiles.RecordPath(sim.SingleProcessCriterion)).TeacherForwards);
        Assert.Equal(ClusterSimulation.Shards * ClusterSimulation.BatchesPerShard, SweepFiles.ReadRecord(SweepFiles.RecordPath(mergedPath)).TeacherForwards);
    }

    private static CriterionFile Read(string path)
    {
        var (file, diagnostics) = CriterionReader.Parse(path, File.ReadAllText(path));
        Assert.True(file != null, string.Join("\n", diagnostics.Select(d => d.Message)));
        return file!;
    }

    private static string WithoutLines(string json, params string[] keys) =>
        Regex.Replace(json, $"^ *\"({string.Join('|', keys)})\": .*\n", "", RegexOptions.Multiline);

    private static string Logs(string state) => string.Join("\n", Directory.GetFiles(state, "*.log").Order().Select(f =>
    {
        var text = File.ReadAllText(f);
        return $"--- {Path.GetFileName(f)}\n{text[^Math.Min(3000, text.Length)..]}";
    }));

    private static List<YamlMappingNode> Manifest(string path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(path)));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlNode Node(YamlNode node, params string[] keys) =>
        keys.Aggregate(node, (n, key) => ((YamlMappingNode)n).Children[new YamlScalarNode(key)]);

    private static string Text(YamlNode node, params string[] keys) => ((YamlScalarNode)Node(node, keys)).Value!;

    /// <summary>The Job's one container, checked to mount the claim, with its command, args and environment.</summary>
    private static PodContainer Container(YamlMappingNode job, string claimName)
    {
        var pod = Node(job, "spec", "template", "spec");
        Assert.Equal("Never", Text(pod, "restartPolicy"));
        var volume = (YamlMappingNode)((YamlSequenceNode)Node(pod, "volumes")).Single();
        Assert.Equal(claimName, Text(volume, "persistentVolumeClaim", "claimName"));
        var container = (YamlMappingNode)((YamlSequenceNode)Node(pod, "containers")).Single();
        var mount = (YamlMappingNode)((YamlSequenceNode)Node(container, "volumeMounts")).Single();
        Assert.Equal(Text(volume, "name"), Text(mount, "name"));
        var env = ((YamlSequenceNode)Node(container, "env")).Cast<YamlMappingNode>().ToList();
        return new PodContainer(
            Text(container, "image"),
            ((YamlSequenceNode)Node(container, "command")).Select(n => n.ToString()).ToList(),
            ((YamlSequenceNode)Node(container, "args")).Select(n => n.ToString()).ToList(),
            Text(mount, "mountPath"),
            env.Where(e => e.Children.ContainsKey(new YamlScalarNode("value"))).ToDictionary(e => Text(e, "name"), e => Text(e, "value")),
            env.Where(e => e.Children.ContainsKey(new YamlScalarNode("valueFrom"))).ToDictionary(e => Text(e, "name"), e => Node(e, "valueFrom")));
    }

    private sealed record PodContainer(string Image, List<string> Command, List<string> Args, string MountPath,
        Dictionary<string, string> Env, Dictionary<string, YamlNode> EnvSources)
    {
        /// <summary>
        /// The container's variables on this machine: the manifest's values with the volume's mount path moved to
        /// <paramref name="volume"/>, then <paramref name="settings"/>, which must cover every variable the kubelet
        /// would compute (valueFrom), then what the Job controller adds.
        /// </summary>
        public Dictionary<string, string> Environment(string volume, Dictionary<string, string> settings, Dictionary<string, string>? controller = null)
        {
            Assert.All(EnvSources.Keys, name => Assert.True(settings.ContainsKey(name), $"the simulation sets no value for {name}"));
            var env = Env.ToDictionary(e => e.Key, e => e.Value == MountPath || e.Value.StartsWith(MountPath + "/") ? volume + e.Value[MountPath.Length..] : e.Value);
            foreach (var (key, value) in settings.Concat(controller ?? [])) env[key] = value;
            return env;
        }
    }
}
