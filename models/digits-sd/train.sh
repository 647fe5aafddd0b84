#!/usr/bin/env bash
# Reproduces models/digits-sd from the shipped MNIST digits (README.md in this folder, "Reproduce"): the image
# folder, the VAE, the initial pipeline, the text encoder trained alone (contrastive, captions against latents),
# the training shards encoded with it, the U-Net trained against the frozen text encoder, and the evaluation. Writes everything under RUN (default runs/digits-sd); RUN/timing.log gets each stage's wall time and
# the load average before and after it, RUN/load.log the load average every minute. A rerun skips finished stages
# and resumes an interrupted training from its last checkpoint. THREADS (default 2) sets libtorch's threads.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN=${1:-runs/digits-sd}
THREADS=${THREADS:-1}   # on a loaded machine one thread per process is several times faster than two
MODEL=models/digits-sd
dotnet build src/LaptopDiff.Cli -c Release -nologo -v quiet -o artifacts/cli
laptop_diff() { dotnet artifacts/cli/laptop-diff.dll "$@"; }
mkdir -p "$RUN"
( while sleep 60; do echo "$(date -u +%FT%TZ) $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RUN/load.log"; done ) &
monitor=$!
trap 'kill $monitor 2>/dev/null' EXIT

# stage NAME DONE_PATH COMMAND...: runs COMMAND unless DONE_PATH exists, timing it
stage() {
  local name=$1 done=$2; shift 2
  if [ -e "$done" ]; then echo "[$name] done already ($done)"; return; fi
  local start; start=$(date +%s)
  echo "$name start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RUN/timing.log"
  "$@"
  echo "$name end $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) wall_s $(( $(date +%s) - start ))" >> "$RUN/timing.log"
}
resume() { [ -d "$1/checkpoints" ] && echo --resume || true; }

stage images "$RUN/train-images" \
  laptop_diff digits-images --mnist models/digits/mnist.safetensors --split train --captions training --seed 0 --output "$RUN/train-images"
stage vae "$RUN/vae/vae" \
  laptop_diff train-vae --config "$MODEL/vae/config.json" --images "$RUN/train-images" --output "$RUN/vae" \
    --steps 400 --batch 32 --lr 2e-3 --warmup 20 --lr-schedule cosine --kl-weight 1e-3 --seed 0 \
    --checkpoint-every 100 --threads "$THREADS" $(resume "$RUN/vae")
stage init "$RUN/init" \
  laptop_diff init-pipeline --structure "$MODEL" --from vae="$RUN/vae/vae" --seed 0 --output "$RUN/init"
stage caption-ids "$RUN/caption-shards" \
  laptop_diff dataset --model "$RUN/init" --images "$RUN/train-images" --output "$RUN/caption-shards" --threads "$THREADS"
stage text-encoder "$RUN/text-encoder/pipeline" \
  laptop_diff train --model "$RUN/init" --data "$RUN/caption-shards" --text-encoder-only --caption-loss contrastive --filler-tokens 3 \
    --output "$RUN/text-encoder" --steps 400 --batch 128 --lr 2e-3 --warmup 20 --lr-schedule cosine --seed 0 \
    --checkpoint-every 200 --threads "$THREADS" $(resume "$RUN/text-encoder")
stage dataset "$RUN/shards" \
  laptop_diff dataset --model "$RUN/text-encoder/pipeline" --images "$RUN/train-images" --output "$RUN/shards" --threads "$THREADS"
stage unet "$RUN/unet/pipeline" \
  laptop_diff train --model "$RUN/text-encoder/pipeline" --data "$RUN/shards" --output "$RUN/unet" \
    --steps 1200 --batch 32 --lr 1.5e-3 --warmup 20 --lr-schedule cosine --ema 0.995 --cfg-dropout 0.1 --seed 0 \
    --checkpoint-every 100 --threads "$THREADS" $(resume "$RUN/unet")
stage unet-finetune "$RUN/unet-finetune/pipeline" \
  laptop_diff train --model "$RUN/unet/pipeline" --data "$RUN/shards" --output "$RUN/unet-finetune" \
    --steps 600 --batch 32 --lr 5e-4 --warmup 20 --lr-schedule cosine --ema 0.995 --cfg-dropout 0.1 --seed 0 \
    --checkpoint-every 100 --threads "$THREADS" $(resume "$RUN/unet-finetune")
stage unet-finetune-2 "$RUN/unet-finetune-2/pipeline" \
  laptop_diff train --model "$RUN/unet-finetune/pipeline" --data "$RUN/shards" --output "$RUN/unet-finetune-2" \
    --steps 1000 --batch 32 --lr 3e-4 --warmup 20 --lr-schedule cosine --ema 0.995 --cfg-dropout 0.1 --seed 1 \
    --checkpoint-every 100 --threads "$THREADS" $(resume "$RUN/unet-finetune-2")
stage eval "$RUN/eval.json" \
  sh -c "dotnet artifacts/cli/laptop-diff.dll eval-digits --model '$RUN/unet-finetune-2/pipeline' --samples-per-class 20 --steps 25 --guidance 3 --seed 0 \
    --grid '$RUN/samples.png' --heldout-grid '$RUN/samples-heldout.png' --threads $THREADS --json > '$RUN/eval.json.tmp' && mv '$RUN/eval.json.tmp' '$RUN/eval.json'"
cat "$RUN/timing.log"
