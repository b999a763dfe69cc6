#!/usr/bin/env bash
# Makes the files scripts/torch_check/check.py verifies with real PyTorch and transformers, which this project's
# machines lack (no PyPI) and the lent GPU machine has (torch 2.11, transformers 5, no Java, no network). Writes
# out/device-check/ (a few MB, ignored by git): carry it there and run
#   python3 scripts/torch_check/check.py out/device-check
set -euo pipefail
cd "$(dirname "$0")/../.."
d=out/device-check
rm -rf "$d"
mkdir -p "$d"
# weights written by this project's .pth writer (the bundled demo model), and their Hugging Face export
cp demo/weights/pretrain_128.pth "$d/pretrain_128.pth"
./minimind export --weight "$d/pretrain_128.pth" --tokenizer_path demo/tokenizer --out_dir "$d/hf"
# a short SFT run: fp16 weights plus a resume checkpoint (fp32 model, PyTorch AdamW state dict, config)
./minimind sft --save_dir "$d/sft" --epochs 1 --max_steps 8 --log_interval 8 >"$d/sft.log"
# greedy continuations of MiniMind's 8 test prompts, to compare with transformers' generate on the export
./minimind chat --weight "$d/pretrain_128.pth" --tokenizer_path demo/tokenizer --temperature 0 --max_new_tokens 24 \
    --show_speed 0 </dev/null >"$d/greedy.txt"
# minimind-3 MoE (router, top-1, no shared expert): a few steps from scratch, its export as Qwen3MoeForCausalLM, and
# greedy continuations to compare with transformers'
./minimind sft --save_dir "$d/moe" --model_family minimind3 --use_moe 1 --hidden_size 64 --num_hidden_layers 2 \
    --from_weight none --epochs 1 --max_steps 8 --log_interval 8 --max_seq_len 128 >"$d/moe.log"
./minimind export --weight "$d/moe/full_sft_64_moe.pth" --tokenizer_path demo/tokenizer --out_dir "$d/hf_moe"
./minimind chat --weight "$d/moe/full_sft_64_moe.pth" --tokenizer_path demo/tokenizer --temperature 0 --max_new_tokens 24 \
    --show_speed 0 </dev/null >"$d/greedy_moe.txt"
echo "wrote $d ($(du -sh "$d" | cut -f1)); next, where torch is: python3 scripts/torch_check/check.py $d"
