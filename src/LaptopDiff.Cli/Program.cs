using LaptopDiff.Cli;
using LaptopDiff.Runtime.Backends;

HostAllocator.Configure();   // before any tensor: libtorch's CPU blocks stay on the heap (see HostAllocator)
MklCpuDispatch.Configure();  // before any matrix product: MKL's kernels chosen by CPU features, not vendor
return CliApp.Run(args, Console.Out, Console.Error);
