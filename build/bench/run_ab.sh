#!/usr/bin/env bash
# Interleaved A/B: LaptopDiff (TorchSharp/libtorch) vs the PyTorch eager baseline, same config, batch, threads.
# usage: build/bench/run_ab.sh CONFIG_OR_SPEC [BATCH] [THREADS] [ROUNDS] [extra args for both, e.g. --runs 3 --warmup 1]
# Build the CLI first: dotnet build src/LaptopDiff.Cli -c Release -o /tmp/ldcli
set -euo pipefail
cfg=$1; batch=${2:-8}; threads=${3:-2}; rounds=${4:-3}; shift $(( $# < 4 ? $# : 4 ))
pycfg=${PYCFG:-$cfg}   # the Python baseline needs a diffusers config.json (set PYCFG when CONFIG is a *.unet.yaml)
py=${PYTHON:-/usr/bin/python3}; cli=${LDCLI:-/tmp/ldcli/laptop-diff.dll}
here=$(cd "$(dirname "$0")" && pwd)
for r in $(seq "$rounds"); do
  echo "# round $r  load: $(cut -d' ' -f1-3 /proc/loadavg)"
  dotnet "$cli" bench unet --spec "$cfg" --batch "$batch" --threads "$threads" --json "$@" \
    | "$py" -c 'import json,sys; d=json.load(sys.stdin); print("laptop-diff  forward_ms %.1f  forward_backward_ms %.1f" % (d["forward_ms"], d["forward_backward_ms"]))'
  echo "#   load: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$py" "$here/torch_eager_unet.py" bench --config "$pycfg" --batch "$batch" --threads "$threads" --json "$@" \
    | "$py" -c 'import json,sys; d=json.load(sys.stdin); f=lambda v: "skipped" if v is None else "%.1f" % v; print("torch-eager  forward_ms %s  forward_backward_ms %s" % (f(d["forward_ms"]), f(d["forward_backward_ms"])))'
done
