#!/usr/bin/env bash
# Salvo against PyTorch on the same GPU, in the same call (issue 7): runs pytorch_gpu_reference.py
# (matmul FP32/TF32, fused AdamW step, small-MLP step eager and CUDA graph, large-MLP step,
# Fashion-MNIST epoch with the data on the GPU), then dev.salvo.gpu.GpuCompare, which measures the
# same on Salvo's device and prints one table: Salvo, PyTorch, ratio, goal, met.
# Runs from the bundle (tests-gpu/build-bundle.sh copies it there) or from a checkout after
# `mvn -Pgpu -DskipTests package`.
# Usage: ./compare.sh [RESULTS_DIR] [-- GpuCompare options: --device cuda --repeat 5 --quick]
# Environment: PYTHON (default python3), SALVO_FASHION_DIR (default /usr/share/datasets/fashion-mnist).
# The reference never sees OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE (Salvo's side keeps its environment).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
results="${1:-$here/results}"; shift || true
[[ "${1:-}" == "--" ]] && shift
mkdir -p "$results"
if [[ -x "$here/runtime/bin/java" ]]; then           # the bundle
  java="$here/runtime/bin/java"; cp="$here/lib/salvo-all.jar:$here/lib/salvo-tests.jar"
  export SALVO_CUDA_PREBUILT="${SALVO_CUDA_PREBUILT:-$here/prebuilt}" SALVO_CACHE_DIR="${SALVO_CACHE_DIR:-$here/cache}"
else                                                  # a checkout
  java=java; cp="$here/../target/salvo-all.jar:$here/../target/salvo-tests.jar"
fi
if [[ -f "$(dirname "$(dirname "$(readlink -f "$(command -v "$java")")")")/lib/libjsig.so" ]]; then
  export LD_PRELOAD="$(dirname "$(dirname "$(readlink -f "$(command -v "$java")")")")/lib/libjsig.so${LD_PRELOAD:+:$LD_PRELOAD}"
fi
fashion="${SALVO_FASHION_DIR:-/usr/share/datasets/fashion-mnist}"
quick=(); for a in "$@"; do [[ "$a" == "--quick" ]] && quick=(--quick); done

echo "== PyTorch reference"
# the reference runs on its libraries' own kernel choice: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
# (which override OpenBLAS's, for the CPU parts) are removed from its environment alone
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${PYTHON:-python3}" "$here/pytorch_gpu_reference.py" --fashion-dir "$fashion" "${quick[@]}" > "$results/torch.json" \
  || echo "compare: the PyTorch reference failed (see above); ratios will be n/a"
echo "== Salvo"
"$java" --add-modules=jdk.incubator.vector -Xmx16g -cp "$cp" dev.salvo.gpu.GpuCompare \
    --torch "$results/torch.json" --fashion-dir "$fashion" "$@" 2> >(grep -v "incubator" >&2) | tee "$results/compare.txt"
exit "${PIPESTATUS[0]}"
