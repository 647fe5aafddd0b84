#!/usr/bin/env bash
# Builds and runs the ILGPU CUDA checks (kernels/LaptopDiff.Kernels.CudaCheck/Check/DeviceCheck.cs):
# every kernel against a float64 reference on the GPU, over an ILGPU device buffer and over the raw
# device-pointer wrap; on-device timings against the GPU's copy bandwidth; and, where libtorch loads,
# the TorchSharp path (CPU tensors staged to the GPU, autograd) plus the simd-vs-ilgpu-cuda benchmark.
#
#   kernels/run-cuda-check.sh run [OUT_DIR]        build with the .NET SDK here and run (needs NuGet packages)
#   kernels/run-cuda-check.sh pack [--with-libtorch]
#                                                  on a machine with the SDK: self-contained linux-x64 build
#                                                  -> kernels/cuda-check-pack/cuda-check.tar.gz (no SDK needed to run)
#   kernels/run-cuda-check.sh packed [OUT_DIR]     on the GPU machine: unpack that tarball and run it
#
# Extra arguments after OUT_DIR go to the check (--emulator runs it on ILGPU's CPU emulator, --no-torch,
# --no-benchmark, --seed N). Results: OUT_DIR/cuda-check.json and OUT_DIR/cuda-check.txt.
# Exit code: 0 all checks passed, 1 a check failed (or the GPU could not be initialised: the error is
# printed), 2 no CUDA device, 3 usage error.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$here/LaptopDiff.Kernels.CudaCheck/LaptopDiff.Kernels.CudaCheck.csproj"
pack_dir="$here/cuda-check-pack"
tarball="$pack_dir/cuda-check.tar.gz"
mode="${1:-run}"
[[ $# -gt 0 ]] && shift

run_check() {   # run_check OUT_DIR COMMAND... -- writes the JSON and a text log into OUT_DIR
  local out="$1"; shift
  mkdir -p "$out"
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu: /' | tee "$out/cuda-check.txt"
  else
    echo "gpu: nvidia-smi not found" | tee "$out/cuda-check.txt"
  fi
  set +e
  "$@" --json "$out/cuda-check.json" 2>&1 | tee -a "$out/cuda-check.txt"
  local status=${PIPESTATUS[0]}
  set -e
  echo "exit code $status (0 passed, 1 failed or GPU init error, 2 no CUDA device); results in $out" | tee -a "$out/cuda-check.txt"
  return "$status"
}

case "$mode" in
  run)
    out="${1:-$here/cuda-check-results}"; [[ $# -gt 0 ]] && shift
    command -v dotnet >/dev/null || { echo "error: dotnet (.NET 10 SDK) not found; use 'pack' on a machine that has it, then 'packed' here" >&2; exit 3; }
    dotnet build "$project" -c Release -nologo -v quiet
    run_check "$out" dotnet run --project "$project" -c Release --no-build -- "$@"
    ;;
  pack)
    with_libtorch=0
    [[ "${1:-}" == "--with-libtorch" ]] && with_libtorch=1
    command -v dotnet >/dev/null || { echo "error: dotnet (.NET 10 SDK) not found" >&2; exit 3; }
    rm -rf "$pack_dir"
    mkdir -p "$pack_dir"
    dotnet publish "$project" -c Release -r linux-x64 --self-contained true -nologo -v quiet \
      -p:DebugType=none -p:DebugSymbols=false -o "$pack_dir/cuda-check"
    # runtime diagnostics the check never uses: keeps the tarball small enough to carry
    rm -f "$pack_dir/cuda-check"/{createdump,libmscordaccore.so,libmscordbi.so,libcoreclrtraceptprovider.so,libclrgc.so,libclrgcexp.so}
    if [[ $with_libtorch == 0 ]]; then
      # libtorch is ~600 MB; without it the kernel checks and device timings still run, the
      # TorchSharp-facing checks and the CPU benchmark are skipped with a note
      find "$pack_dir/cuda-check" -maxdepth 1 \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libgomp*.so*' \
        -o -name 'libshm*.so*' -o -name 'libbackend_with_compiler.so' -o -name 'libjitbackend_test.so' \
        -o -name 'libnnapi_backend.so' -o -name 'libaoti_custom_ops.so' -o -name 'libtorchbind_test.so' \) -delete
    fi
    tar -C "$pack_dir" -czf "$tarball" cuda-check
    rm -rf "$pack_dir/cuda-check"
    echo "packed $tarball ($(du -h "$tarball" | cut -f1)); on the GPU machine: kernels/run-cuda-check.sh packed OUT_DIR"
    ;;
  packed)
    out="${1:-$here/cuda-check-results}"; [[ $# -gt 0 ]] && shift
    [[ -f "$tarball" ]] || { echo "error: $tarball not found; run 'kernels/run-cuda-check.sh pack' first" >&2; exit 3; }
    work="$(mktemp -d)"
    tar -C "$work" -xzf "$tarball"
    run_check "$out" "$work/cuda-check/LaptopDiff.Kernels.CudaCheck" "$@"
    ;;
  *)
    sed -n '2,16p' "$0"
    exit 3
    ;;
esac
