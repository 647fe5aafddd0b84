using LaptopDiff.Cli;
using LaptopDiff.Runtime.Backends;

HostAllocator.Configure();   // before any tensor: libtorch's CPU blocks stay on the heap (see HostAllocator)
return CliApp.Run(args, Console.Out, Console.Error);
