namespace LaptopDiff.Kernels;

/// <summary>Runs independent work items on up to N threads, or inline when the call is small.</summary>
internal static class CpuWorkers
{
    public static void For(int items, long elements, KernelTuning tuning, Action<int> body)
    {
        int threads = Math.Min(tuning.CpuThreads, items);
        if (threads <= 1 || elements < tuning.CpuParallelThresholdElements)
        {
            for (int i = 0; i < items; i++) body(i);
            return;
        }
        Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }
}
