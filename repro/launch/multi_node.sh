#!/usr/bin/env bash
# N nodes (the recipe: 6 x 8 B200 = 48 GPUs). Run this same script on every node with its NODE_RANK.
# Nodes 0 .. vllm_nodes-1 run `trl vllm-serve` (one engine per GPU); the other nodes train together with
# accelerate + DeepSpeed ZeRO-3 (machine ranks 0..M-1, M = nodes - vllm_nodes). After training, run
# `ROLE=eval repro/launch/multi_node.sh CONFIG OUT_DIR` on any GPU node to score the checkpoints.
#   env (required): NODE_RANK, MASTER_ADDR (first training node's IP), VLLM_HOST (generation node's IP)
#   env (optional): NODES / GPUS_PER_NODE / VLLM_NODES (default: the config's launch block), PORT (29500),
#                   ROLE=eval, DRY_RUN=1 prints the commands instead of running them.
# OUT_DIR must be on a filesystem every node sees. A relaunch with the same OUT_DIR resumes the run.
set -euo pipefail
CONFIG=${1:?usage: multi_node.sh CONFIG OUT_DIR}
OUT=${2:?usage: multi_node.sh CONFIG OUT_DIR}
cd "$(dirname "$0")/../.."
run() { if [ "${DRY_RUN:-0}" = 1 ]; then echo "$1"; else eval "$1"; fi; }
if [ "${ROLE:-}" = eval ]; then run "$(python -m repro.launch.commands eval --out "$OUT")"; exit 0; fi

read -r C_NODES C_GPN C_VLLM < <(python -c "from repro.config import load_config; l = load_config('$CONFIG').launch; \
print(l.nodes, l.gpus_per_node, l.vllm_nodes)")
NODES=${NODES:-$C_NODES}
GPUS_PER_NODE=${GPUS_PER_NODE:-$C_GPN}
VLLM_NODES=${VLLM_NODES:-$C_VLLM}
NODE_RANK=${NODE_RANK:?set NODE_RANK (0..NODES-1)}
PORT=${PORT:-29500}
TRAIN_NODES=$((NODES - VLLM_NODES))
TRAIN_GPUS=$((TRAIN_NODES * GPUS_PER_NODE))
if [ "$TRAIN_NODES" -lt 1 ]; then echo "error: VLLM_NODES=$VLLM_NODES leaves no node to train on" >&2; exit 2; fi
if [ "$NODE_RANK" -ge "$NODES" ]; then echo "error: NODE_RANK=$NODE_RANK but NODES=$NODES" >&2; exit 2; fi

if [ "$NODE_RANK" -lt "$VLLM_NODES" ]; then
  run "$(python -m repro.launch.commands serve --config "$CONFIG" --gpus "$GPUS_PER_NODE")"
else
  python -m repro.plan --config "$CONFIG" --gpus "$TRAIN_GPUS" >&2   # refuses a config that does not fit (exit 2)
  run "$(python -m repro.launch.commands train --config "$CONFIG" --out "$OUT" --num-processes "$TRAIN_GPUS" \
    --num-machines "$TRAIN_NODES" --machine-rank $((NODE_RANK - VLLM_NODES)) \
    --main-ip "${MASTER_ADDR:?set MASTER_ADDR}" --main-port "$PORT" --vllm-host "${VLLM_HOST:?set VLLM_HOST}")"
fi
