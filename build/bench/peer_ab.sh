#!/usr/bin/env bash
# LaptopDiff against its speed peer, PyTorch running diffusers' own UNet2DConditionModel (../shared/bench), in one run:
# the same diffusers config, batch, latent size and threads, the two tools alternating for ROUNDS rounds so that a
# change of machine load falls on both alike. Prints each round's medians and the ratio ours / peer.
# usage: build/bench/peer_ab.sh CONFIG.json [BATCH=8] [SIZE=config] [THREADS=2] [ROUNDS=3] [RUNS=7] [WARMUP=2]
# Needs DIFFUSERS_SRC and STUBS (../shared/bench/README.md) and the CLI: dotnet build src/LaptopDiff.Cli -c Release -o artifacts/cli
set -euo pipefail
cd "$(dirname "$0")/../.."
cfg=$1; batch=${2:-8}; size=${3:-}; threads=${4:-2}; rounds=${5:-3}; runs=${6:-7}; warmup=${7:-2}
: "${DIFFUSERS_SRC:?export DIFFUSERS_SRC and STUBS as ../shared/bench/setup.sh prints}" "${STUBS:?}"
py=/usr/bin/python3; cli=${LDCLI:-artifacts/cli/laptop-diff.dll}
ours_size=(); peer_size=()
if [ -n "$size" ]; then ours_size=(--sample-size "$size"); peer_size=(--size "$size"); fi
field() { "$py" -c "import json,sys; d=json.load(sys.stdin); print('%.1f %.1f' % (d['forward_ms'], d['forward_backward_ms']))"; }
echo "round  load    ours_fwd_ms  peer_fwd_ms  fwd_ratio  ours_fwdbwd_ms  peer_fwdbwd_ms  fwdbwd_ratio"
for r in $(seq "$rounds"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  read -r of ob < <(dotnet "$cli" bench unet --spec "$cfg" --batch "$batch" "${ours_size[@]}" --threads "$threads" --runs "$runs" --warmup "$warmup" --json 2>/dev/null | field)
  read -r pf pb < <("$py" ../shared/bench/unet_bench.py "$cfg" --batch "$batch" "${peer_size[@]}" --threads "$threads" --runs "$runs" --warmup "$warmup" --json | field)
  "$py" -c "print('%-6s %-7s %11s %12s %9.2fx %15s %15s %12.2fx' % ('$r', '$load', '$of', '$pf', $of/$pf, '$ob', '$pb', $ob/$pb))"
done
