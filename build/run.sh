#!/usr/bin/env bash
# The README's main command: setup, build the CLI, run the end-to-end demo on the shipped miniature Stable Diffusion
# (calibration, sweep, additivity, knapsack at 50% of params and of latency, normalized KD, evaluation against the baselines). Extra arguments go
# to `laptop-diff demo` (e.g. --quick). A rerun resumes from the finished steps.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/setup.sh
echo "[run] building laptop-diff (Release)"
dotnet build src/LaptopDiff.Cli -c Release -nologo -v quiet -o artifacts/cli
echo "[run] laptop-diff demo $*"
dotnet artifacts/cli/laptop-diff.dll demo "$@"
