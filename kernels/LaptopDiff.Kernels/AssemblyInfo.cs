using System.Runtime.CompilerServices;

// ILGPU's CPU accelerator emits kernel wrappers into a dynamic assembly that must see our internal
// kernel parameter structs (PairChunk, AblationLayout).
[assembly: InternalsVisibleTo("ILGPURuntime")]
[assembly: InternalsVisibleTo("LaptopDiff.Kernels.Tests")]
// the CUDA check program verifies the ILGPU kernels through their launchers and device buffers
[assembly: InternalsVisibleTo("LaptopDiff.Kernels.CudaCheck")]
