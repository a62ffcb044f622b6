#!/usr/bin/env bash
# Fuzzing in CI (called by .ci/run): build the cargo-fuzz targets, replay fuzz/regressions through
# libFuzzer, and fuzz each target briefly. Needs a nightly toolchain; without one it says so and
# succeeds (the stable build and `cargo test` never need nightly; `cargo test` replays the same
# regressions through tests/fuzz_regressions.rs). Exits non-zero on a crash in `runtime`, or if
# `bounded_buffer` (a deliberate bug) is NOT found.
#
#   FUZZ_SECONDS=20   seconds of fuzzing per target
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-20}"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "no nightly toolchain: fuzz targets not built"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo +nightly install cargo-fuzz --locked
fi

echo "== cargo +nightly fuzz build -O"
cargo +nightly fuzz build -O

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== runtime: replay fuzz/regressions/runtime, then fuzz ${seconds}s"
mkdir -p "$work/runtime"
cp regressions/runtime/* "$work/runtime/" 2>/dev/null || true
cargo +nightly fuzz run -O runtime "$work/runtime" -- -runs=0
mkdir -p "$work/runtime-crashes"
cargo +nightly fuzz run -O runtime "$work/runtime" -- -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$work/runtime-crashes/" \
    2>&1 | tee "$work/runtime.log" | grep -E "^INFO: Seed|^#[0-9]+[[:space:]]+(DONE|INITED)|ERROR|panicked|invariant" || true
if ! grep -q "^Done " "$work/runtime.log"; then
    echo "runtime: the fuzzer found a crash (see above)."
    # The artifact dies with this machine: print it, so that the log alone reproduces the crash.
    for f in "$work"/runtime-crashes/*; do
        [ -f "$f" ] || continue
        echo "  input (base64): $(base64 -w0 "$f")"
        echo "  to reproduce and keep it as a regression, from the repository root:"
        echo "    echo '$(base64 -w0 "$f")' | base64 -d > fuzz/regressions/runtime/NAME"
        echo "    cargo run --example fuzz_input_to_schedule -- runtime fuzz/regressions/runtime/NAME"
        echo "    cargo test --test fuzz_regressions"
    done
    exit 1
fi

echo "== bounded_buffer: every committed crash still crashes"
for f in regressions/bounded_buffer/*; do
    if cargo +nightly fuzz run -O bounded_buffer "$f" -- -runs=1 >"$work/one.log" 2>&1; then
        echo "bounded_buffer: $f no longer reproduces the overflow"
        exit 1
    fi
done

echo "== bounded_buffer: the fuzzer finds the deliberate bug within ${seconds}s"
mkdir -p "$work/buffer" "$work/artifacts"
if cargo +nightly fuzz run -O bounded_buffer "$work/buffer" -- -max_total_time="$seconds" \
    -artifact_prefix="$work/artifacts/" >"$work/buffer.log" 2>&1; then
    echo "bounded_buffer: no crash found in ${seconds}s: the schedule producer lost its reach"
    exit 1
fi
grep -q "bounded buffer overflow" "$work/buffer.log" || { cat "$work/buffer.log"; exit 1; }
grep -E "^#[0-9]+[[:space:]]" "$work/buffer.log" | tail -1 || true
echo "fuzz: ok"
