#!/usr/bin/env bash
# The README's main command: setup, build the CLI, run the main job on the shipped defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/setup.sh
echo "[run] building laptop-diff (Release)"
dotnet build src/LaptopDiff.Cli -c Release -nologo -v quiet -o artifacts/cli
echo "[run] laptop-diff inspect --spec models/sd15.unet.yaml"
dotnet artifacts/cli/laptop-diff.dll inspect --spec models/sd15.unet.yaml "$@"
