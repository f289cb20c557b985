#!/usr/bin/env bash
# Runs Salvo's tests on this node with the bundled Java runtime, then salvo devices, salvo check
# and salvo train on CUDA and on the CPU. Needs nothing installed but the NVIDIA driver.
# Results (JUnit XML under junit/, and text logs) go to RESULTS_DIR (default: results/ beside this script).
# SALVO_REQUIRE (default cuda) lists providers whose absence must fail the tests instead of skipping them
# (opencl-gpu: an OpenCL GPU). The exit status is non-zero if a test or salvo check failed, or if
# salvo train --device cuda failed while SALVO_REQUIRE lists cuda. CI runs the bundle on a machine
# with no GPU as SALVO_REQUIRE=cpu,opencl ./run-gpu-tests.sh, so the bundle cannot rot unnoticed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
results="${1:-$here/results}"
java="$here/runtime/bin/java"
export SALVO_REQUIRE="${SALVO_REQUIRE:-cuda}"
export SALVO_CUDA_PREBUILT="${SALVO_CUDA_PREBUILT:-$here/prebuilt}"
export SALVO_CACHE_DIR="${SALVO_CACHE_DIR:-$here/cache}"
mkdir -p "$results/junit" "$results/work"
results="$(cd "$results" && pwd)"
flags=(--add-modules=jdk.incubator.vector -Xmx8g)
# a JDK 22+ runtime runs the FFM classes (MPI, NCCL) and, like JOCL and JCuda, may load native code
if "$java" --enable-native-access=ALL-UNNAMED -version >/dev/null 2>&1; then flags+=(--enable-native-access=ALL-UNNAMED); fi
# signal chaining, so native drivers' signal handlers cannot take over the JVM's (see the README)
if [[ -f "$here/runtime/lib/libjsig.so" ]]; then export LD_PRELOAD="$here/runtime/lib/libjsig.so${LD_PRELOAD:+:$LD_PRELOAD}"; fi
status=0

echo "== node"; { uname -a; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || true; } | tee "$results/node.txt"

echo "== tests (SALVO_REQUIRE=$SALVO_REQUIRE)"
# in a scratch folder: what tests write relative to the working directory (run folders) lands there
(cd "$results/work" && "$java" "${flags[@]}" -jar "$here/lib/junit-platform-console-standalone.jar" execute \
    --class-path "$here/lib/salvo-all.jar:$here/lib/salvo-tests.jar" \
    --scan-class-path "$here/lib/salvo-tests.jar" \
    --reports-dir "$results/junit" --details=summary --details-theme=ascii --disable-banner) 2>&1 | tee "$results/tests.txt"
[[ ${PIPESTATUS[0]} -eq 0 ]] || { status=1; echo "== FAILED: tests (see $results/tests.txt)"; }

salvo() { "$java" "${flags[@]}" -jar "$here/lib/salvo-all.jar" "$@" 2> >(grep -v "incubator" >&2); }
echo "== salvo devices"; salvo devices | tee "$results/devices.txt"
cuda_required=0; [[ ",${SALVO_REQUIRE// /}," == *,cuda,* ]] && cuda_required=1
cd "$results/work" || exit 1
echo "== salvo check"; salvo check --json "$results/check.json" | tee "$results/check.txt"
[[ ${PIPESTATUS[0]} -eq 0 ]] || { status=1; echo "== FAILED: salvo check"; }
echo "== salvo train --device cuda"; salvo train --no-progress --device cuda | tee "$results/train-cuda.txt"
if [[ ${PIPESTATUS[0]} -ne 0 ]]; then
  if (( cuda_required )); then status=1; echo "== FAILED: salvo train --device cuda"
  else echo "== salvo train --device cuda failed; not counted: SALVO_REQUIRE does not list cuda"; fi
fi
echo "== salvo train --device cpu"; salvo train --no-progress --device cpu | tee "$results/train-cpu.txt"
[[ ${PIPESTATUS[0]} -eq 0 ]] || { status=1; echo "== FAILED: salvo train --device cpu"; }
echo "== exit $status (results in $results)"
exit $status
