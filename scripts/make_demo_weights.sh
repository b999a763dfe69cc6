#!/usr/bin/env bash
# Regenerates demo/weights/pretrain_128.pth: the tiny model `minimind sft` fine-tunes when run without data flags.
# It is `minimind pretrain` on the bundled corpus (demo/pretrain.jsonl) with the bundled tokenizer; on 2 cores it
# takes roughly 10-40 minutes depending on load. The run is deterministic for a given thread count.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
./minimind pretrain --data_path demo/pretrain.jsonl --tokenizer_path demo/tokenizer \
  --hidden_size 128 --num_hidden_layers 4 --vocab_size 2048 \
  --batch_size 16 --accumulation_steps 1 --learning_rate 2e-3 --max_seq_len 160 --epochs 3 \
  --log_interval 50 --save_dir "$out"
mkdir -p demo/weights
cp "$out/pretrain_128.pth" demo/weights/pretrain_128.pth
cp "$out/pretrain_128_metrics.csv" demo/weights/pretrain_128_metrics.csv
echo "wrote demo/weights/pretrain_128.pth"
