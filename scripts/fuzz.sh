#!/usr/bin/env bash
# Runs a libFuzzer target for N seconds on the stable toolchain (no nightly,
# no cargo-fuzz): coverage instrumentation through stable -C flags, applied
# only to the target (--target keeps build scripts uninstrumented). Needs a
# C++ compiler for libFuzzer itself (g++ or clang++).
#
#   scripts/fuzz.sh [webhook_form|twiml_text] [seconds]     (default: webhook_form 60)
#
# Findings are written to fuzz/artifacts/<target>/, the corpus to fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
target=${1:-webhook_form}
secs=${2:-60}
triple=$(rustc -vV | awk '/^host:/ {print $2}')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
cargo build --release --target "$triple" --bin "$target"
mkdir -p "corpus/$target" "artifacts/$target"
"target/$triple/release/$target" -max_total_time="$secs" -print_final_stats=1 \
  -artifact_prefix="artifacts/$target/" "corpus/$target"
