#!/usr/bin/env bash
# The LAPTOP criterion sweep on a Slurm cluster: a job array of SHARDS tasks, each running
# `laptop-diff sweep --shard auto` (task k of --array=1-SHARDS measures shard k/SHARDS, read from Slurm's
# array variables), then one merge job that starts only when every task has succeeded
# (--dependency=afterok on the array) and joins the shard criteria into CRITERION.
#
#   bash build/cluster/slurm/submit.sh                      # on a login node, with the parameters below
#   SHARDS=16 OUT_DIR=/scratch/$USER/sweep bash build/cluster/slurm/submit.sh
#
# Needs laptop-diff on PATH on the compute nodes (e.g. `dotnet tool install --global laptop-diff`, or a
# module), and SPEC, WEIGHTS, CALIBRATION and OUT_DIR on a file system that every node sees. Partition,
# account or QOS: set SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_QOS (sbatch reads them). Watch with
# `squeue -u $USER`; logs go to OUT_DIR/logs. If task K fails, the merge job never starts: rerun that shard
# with `--shard K/SHARDS` and the same settings (it resumes from OUT_DIR/shards/shard-K.json.partial), then
# `sbatch --export=ALL merge.sbatch` with the parameters exported. (A new array of one task would be shard 1/1.)
set -euo pipefail

# ---- parameters (each may also come from the environment) ------------------------------------------
SPEC=${SPEC:-$PWD/models/sd15.unet.yaml}          # the full model: *.unet.yaml spec or diffusers config.json
WEIGHTS=${WEIGHTS:-$PWD/teacher.safetensors}       # the teacher's weights (diffusers key names)
CALIBRATION=${CALIBRATION:-$PWD/calib.safetensors} # the calibration set (laptop-diff calibration)
OUT_DIR=${OUT_DIR:-$PWD/sweep}                     # shared folder for shards/, logs/ and the criterion
CRITERION=${CRITERION:-$OUT_DIR/criterion.json}    # the merged criterion (its record goes beside it)
SHARDS=${SHARDS:-8}                                # array tasks, one shard each
THREADS=${THREADS:-8}                              # CPU cores per task (--cpus-per-task, then --threads)
BATCH=${BATCH:-16}                                 # calibration samples per forward
SEED=${SEED:-0}                                    # timesteps and noise; the same for every shard
TIME=${TIME:-04:00:00}                             # wall-time limit of one task
# ----------------------------------------------------------------------------------------------------

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export SPEC WEIGHTS CALIBRATION OUT_DIR CRITERION BATCH SEED   # read by sweep.sbatch and merge.sbatch
mkdir -p "$OUT_DIR/shards" "$OUT_DIR/logs"                      # Slurm does not create log folders

# --parsable prints "JOBID" or "JOBID;CLUSTER"
array_job_id=$(sbatch --parsable --export=ALL --job-name=laptopdiff-sweep --array="1-$SHARDS" \
    --cpus-per-task="$THREADS" --time="$TIME" --output="$OUT_DIR/logs/sweep-%A_%a.log" "$here/sweep.sbatch")
array_job_id=${array_job_id%%;*}

merge_job_id=$(sbatch --parsable --export=ALL --job-name=laptopdiff-merge --dependency="afterok:$array_job_id" \
    --cpus-per-task=1 --time=00:30:00 --output="$OUT_DIR/logs/merge-%j.log" "$here/merge.sbatch")
merge_job_id=${merge_job_id%%;*}

echo "submitted: sweep array $array_job_id ($SHARDS tasks), merge job $merge_job_id after it; criterion: $CRITERION"
