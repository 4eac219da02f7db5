#!/usr/bin/env bash
# One node: the first VLLM_GPUS GPUs run `trl vllm-serve`, the other GPUS - VLLM_GPUS train with accelerate +
# DeepSpeed ZeRO-3 (the config's launch.accelerate_config); checkpoints are then scored by their own job.
#   repro/launch/single_node.sh CONFIG OUT_DIR
#   env: GPUS (8), VLLM_GPUS (4), PORT (29500), DRY_RUN=1 prints the commands instead of running them.
# A relaunch with the same OUT_DIR resumes the run (repro.reproduce --resume).
set -euo pipefail
CONFIG=${1:?usage: single_node.sh CONFIG OUT_DIR}
OUT=${2:?usage: single_node.sh CONFIG OUT_DIR}
GPUS=${GPUS:-8}
VLLM_GPUS=${VLLM_GPUS:-4}
PORT=${PORT:-29500}
TRAIN_GPUS=$((GPUS - VLLM_GPUS))
cd "$(dirname "$0")/../.."
if [ "$TRAIN_GPUS" -lt 1 ]; then echo "error: VLLM_GPUS=$VLLM_GPUS leaves no GPU to train on" >&2; exit 2; fi
run() { if [ "${DRY_RUN:-0}" = 1 ]; then echo "$1"; else eval "$1"; fi; }

python -m repro.plan --config "$CONFIG" --gpus "$TRAIN_GPUS" >&2   # refuses a config that does not fit (exit 2)
SERVE=$(python -m repro.launch.commands serve --config "$CONFIG" --gpus "$VLLM_GPUS")
TRAIN=$(python -m repro.launch.commands train --config "$CONFIG" --out "$OUT" --num-processes "$TRAIN_GPUS" \
  --main-port "$PORT" --vllm-host 127.0.0.1)
EVAL=$(python -m repro.launch.commands eval --out "$OUT")
VLLM_DEVICES=$(seq -s, 0 $((VLLM_GPUS - 1)))
TRAIN_DEVICES=$(seq -s, "$VLLM_GPUS" $((GPUS - 1)))

run "CUDA_VISIBLE_DEVICES=$VLLM_DEVICES $SERVE &"
if [ "${DRY_RUN:-0}" != 1 ]; then
  SERVER_PID=$!
  trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
  SERVE_PORT=$(python -c "from repro.config import load_config; print(load_config('$CONFIG').vllm.server_port)")
  until curl -sf "http://127.0.0.1:$SERVE_PORT/health" >/dev/null; do sleep 10; done  # vLLM's health route
fi
run "CUDA_VISIBLE_DEVICES=$TRAIN_DEVICES $TRAIN"
if [ "${DRY_RUN:-0}" != 1 ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
run "$EVAL"   # every checkpoint at 40k, the best at 81,920 (all GPUs free again)
