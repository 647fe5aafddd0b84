using LaptopDiff.Runtime.Backends;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Blocks;

public unsafe class MklCpuDispatchTests
{
    private static string LibtorchPath =>
        Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libtorch_cpu.so");

    [Fact]
    public void Libtorchs_calls_to_the_vendor_check_answer_yes_after_configure()
    {
        Assert.True(MklCpuDispatch.Configure());
        var slot = MklCpuDispatch.VendorCheckSlot();
        Assert.NotNull(slot);
        var target = (delegate* unmanaged<int>)*(nint*)slot.Value;
        Assert.Equal(1, target());
    }

    [Fact]
    public void A_matrix_product_after_configure_matches_float64()
    {
        MklCpuDispatch.Configure();
        var generator = new Generator(7);
        using var a = randn(new long[] { 96, 80 }, generator: generator);
        using var b = randn(new long[] { 80, 72 }, generator: generator);
        using var product = matmul(a, b);
        using var reference = matmul(a.to_type(ScalarType.Float64), b.to_type(ScalarType.Float64));
        var maxError = (product.to_type(ScalarType.Float64) - reference).abs().max().item<double>();
        Assert.InRange(maxError, 0, 1e-4);
    }

    [Fact]
    public void Finds_the_plt_slot_of_a_symbol_libtorch_calls_and_none_for_others()
    {
        var slot = ElfImportSlot.Find(LibtorchPath, "mkl_serv_intel_cpu_true");
        Assert.NotNull(slot);
        Assert.False(slot.Value.ReadOnlyAfterLoad);
        Assert.Null(ElfImportSlot.Find(LibtorchPath, "mkl_serv_intel_cpu_true_no_such_symbol"));
        Assert.Null(ElfImportSlot.Find(LibtorchPath, "mkl_serv_intel_cpu_tru"));
    }

    [Fact]
    public void A_file_that_is_no_elf_library_has_no_slot()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not an ELF file, but long enough to hold an ELF header of sixty-four bytes......");
            Assert.Null(ElfImportSlot.Find(path, "mkl_serv_intel_cpu_true"));
        }
        finally { File.Delete(path); }
    }
}
