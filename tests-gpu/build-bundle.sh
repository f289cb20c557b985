#!/usr/bin/env bash
# Builds a self-contained bundle for GPU nodes that have no Java and no network:
#   runtime/            a jlink'ed Java runtime (only the modules Salvo and JUnit need)
#   lib/salvo-all.jar   Salvo with its dependencies (JOCL, JCuda and its linux-x86_64 natives, ...)
#   lib/salvo-tests.jar the test classes of both tiers (src/test/java and tests-gpu/src/test/java)
#   lib/junit-platform-console-standalone.jar
#   kernels/            the kernel source (also inside the jar; SALVO_KERNELS may point here)
#   prebuilt/           cubins of every kernel for the architectures below (when nvcc is here)
#   run-gpu-tests.sh    runs the tests, salvo devices/check/train, writes JUnit XML under results/
#   compare.sh          Salvo against PyTorch on the same GPU (with pytorch_gpu_reference.py)
# Usage: tests-gpu/build-bundle.sh [OUT_DIR]   (default tests-gpu/bundle; git ignores it)
# Environment: JAVA_HOME (the JDK that runs Maven), SALVO_BUNDLE_JDK (the JDK whose jlink makes the
# runtime; default the Temurin 25 of these machines when it is there, so the bundle also runs the JDK 22+
# classes: NCCL and MPI; else JAVA_HOME), SALVO_CUDA_ARCHS (default "sm_90 sm_80").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/tests-gpu/bundle}"
archs="${SALVO_CUDA_ARCHS:-sm_90 sm_80}"
jdk="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
junit_console_version=1.11.3
runtime_jdk="${SALVO_BUNDLE_JDK:-}"
if [[ -z "$runtime_jdk" ]]; then
  runtime_jdk="$jdk"
  if [[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/jlink ]]; then runtime_jdk=/usr/lib/jvm/temurin-25-jdk-amd64; fi
fi

cd "$root"
echo "build-bundle: packaging with Maven (-Pgpu, tests compiled, not run)"
mvn -q -B -ntp -Pgpu -DskipTests package
rm -rf "$out"
mkdir -p "$out/lib" "$out/prebuilt" "$out/results"
# the nodes are linux-x86_64 and Salvo never loads JCuda's PTX compiler (9 MB packed): the bundle's copy of
# the jar leaves those natives and the other platforms' out
slim="$(mktemp -d)"
(cd "$slim" && "$jdk/bin/jar" xf "$root/target/salvo-all.jar")
rm -f "$slim"/lib/libJNvPTXCompiler-* "$slim"/lib/*windows* "$slim"/lib/*apple* "$slim"/lib/*linux-arm64* "$slim"/lib/*.dll
mv "$slim/META-INF/MANIFEST.MF" "$slim.MF"
"$jdk/bin/jar" --create --file "$out/lib/salvo-all.jar" --manifest "$slim.MF" -C "$slim" .
rm -rf "$slim" "$slim.MF"
cp target/salvo-tests.jar "$out/lib/"
mvn -q -B -ntp dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_console_version" \
    -DoutputDirectory="$out/lib" -Dmdep.stripVersion=true
cp -r kernels "$out/kernels"

echo "build-bundle: jlink runtime from $runtime_jdk"
# every module Salvo's classes and tests use (BundleRuntimeTest checks this list against jdeps), less
# java.desktop (plots are optional); jdk.management: com.sun.management.ThreadMXBean (AllocationFreeStepTest)
compress=2
if (( $("$runtime_jdk/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p') >= 21 )); then
  compress=zip-9
fi
"$runtime_jdk/bin/jlink" --add-modules java.base,java.compiler,java.logging,java.xml,java.management,jdk.management,java.sql,jdk.incubator.vector,jdk.unsupported,jdk.zipfs \
    --strip-debug --no-header-files --no-man-pages --compress=$compress --output "$out/runtime" 2>&1 | grep -v "incubator" || true
# the JVM's own symbol table (5 MB of a JDK 25 libjvm.so) is not needed to run; binutils' strip drops it
if command -v strip >/dev/null 2>&1; then
  strip --strip-unneeded "$out/runtime/lib/server/libjvm.so"
fi

if command -v nvcc >/dev/null 2>&1 || [[ -x "${CUDA_HOME:-/nonexistent}/bin/nvcc" ]]; then
  echo "build-bundle: prebuilt cubins for $archs"
  # shellcheck disable=SC2086
  "$out/runtime/bin/java" --add-modules=jdk.incubator.vector -cp "$out/lib/salvo-all.jar" \
      dev.salvo.device.cuda.CudaPrebuild --out "$out/prebuilt" $archs 2>&1 | grep -v "incubator"
else
  echo "build-bundle: no nvcc here: no prebuilt cubins (the node then needs NVRTC 12 or nvcc)"
fi

cp tests-gpu/run-gpu-tests.sh tests-gpu/compare.sh tests-gpu/pytorch_gpu_reference.py "$out/"
chmod +x "$out/run-gpu-tests.sh" "$out/compare.sh"
size="$(du -sm "$out" | cut -f1)"
echo "build-bundle: $out is ${size} MB"
if (( size >= 60 )); then
  echo "build-bundle: the bundle must stay under 60 MB" >&2
  exit 1
fi
