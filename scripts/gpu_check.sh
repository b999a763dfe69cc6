#!/usr/bin/env bash
# The CUDA check, in one go, for a machine with an NVIDIA GPU (driver only; the gpu build brings CUDA 13.1, cuDNN and
# NCCL as bytedeco redistributables). Builds the gpu flavour, runs the CUDA tests (CudaTest compares CUDA with CPU;
# elsewhere it is skipped) and the precision/trainer tests, then SFT steps on the bundled demo in bf16, fp16 and fp32,
# chat on the GPU, and the benchmark in bf16 and fp32. Logs go to ${OUT:-/tmp/minimind-gpu-check}.
#   usage: scripts/gpu_check.sh            (about 5-10 minutes, most of it the first build's downloads)
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp/minimind-gpu-check}"
mkdir -p "$out"
export MINIMIND_MAVEN_OPTS=-Pgpu
step() { echo "== $*" | tee -a "$out/summary.txt"; }
run() { local name="$1"; shift; local t0=$SECONDS; "$@" >"$out/$name.log" 2>&1; local rc=$?
        echo "   $name: exit $rc in $((SECONDS - t0)) s" | tee -a "$out/summary.txt"; tail -n 4 "$out/$name.log" | sed 's/^/   | /' | tee -a "$out/summary.txt"; }
step "nvidia-smi"; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$out/summary.txt"
step "build (mvn -Pgpu package)"; run build mvn -q -B -Pgpu -DskipTests package
step "CUDA tests"; run tests mvn -B -Pgpu test -Dtest='CudaTest,PrecisionTest,GradScalerTest,TrainerTest'
grep -h "Tests run" target/surefire-reports/*CudaTest.txt 2>/dev/null | tee -a "$out/summary.txt"
for dtype in bfloat16 float16 float32; do
  step "demo SFT on cuda:0, $dtype, 60 steps"
  run "sft-$dtype" ./minimind sft --device cuda:0 --dtype "$dtype" --save_dir "$out/sft-$dtype" --epochs 1 --max_steps 60 --log_interval 20
done
step "chat on cuda:0"
run chat ./minimind chat --device cuda:0 --save_dir "$out/sft-bfloat16" --weight full_sft --hidden_size 128 \
    --tokenizer_path demo/tokenizer --prompt "What is 5 plus 5?" --temperature 0
step "eval: the same weights on cuda and on cpu"
run eval-cuda ./minimind eval --device cuda:0 --weight "$out/sft-float32/full_sft_128.pth" --data demo/sft_eval.jsonl --tokenizer_path demo/tokenizer
run eval-cpu ./minimind eval --device cpu --weight "$out/sft-float32/full_sft_128.pth" --data demo/sft_eval.jsonl --tokenizer_path demo/tokenizer
step "bench, default 512/8 model"
run bench-bf16 ./minimind bench --device cuda:0 --dtype bfloat16 --steps 10 --json
run bench-fp32 ./minimind bench --device cuda:0 --dtype float32 --steps 10 --json
echo "logs: $out"
