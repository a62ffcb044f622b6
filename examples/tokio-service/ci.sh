#!/usr/bin/env bash
# The tokio-service demonstration in both modes, run by .ci/run:
#   1. real tokio: its ordinary #[tokio::test]s pass;
#   2. RUSTFLAGS="--cfg detsim" (target/detsim): the same tests are explored; detsim finds the lost
#      wakeup with its default budget, and the DETSIM_SCHEDULE line it prints, run as printed in a
#      child shell, reproduces the same failure. The other tests pass under exploration too.
set -euo pipefail
cd "$(dirname "$0")/../.."
unset DETSIM_SEED DETSIM_SCHEDULE DETSIM_ITERATIONS DETSIM_STRATEGY DETSIM_JOBS DETSIM_SHARD \
    DETSIM_CHECK_DETERMINISM DETSIM_SHRINK DETSIM_PROGRESS RUSTFLAGS CARGO_TARGET_DIR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "tokio-service demo: $*" >&2; for f in "$tmp"/*; do echo "--- $f"; cat "$f"; done >&2; exit 1; }

echo "-- real tokio: cargo test -p tokio-service"
cargo test -p tokio-service

echo "-- --cfg detsim: the tests without the bug pass under exploration"
RUSTFLAGS="--cfg detsim" cargo test -p tokio-service --target-dir target/detsim --test config \
    -- --skip waiter_sees_the_reload

echo "-- --cfg detsim: detsim finds the lost wakeup (default budget)"
if RUSTFLAGS="--cfg detsim" cargo test -p tokio-service --target-dir target/detsim --test config \
    -- --exact waiter_sees_the_reload >"$tmp/found" 2>&1; then
    fail "the exploration passed; it should have found the lost wakeup"
fi
grep -q "detsim found a failure: panic in task 0 \"main\": the waiter missed the reload" "$tmp/found" \
    || fail "no detsim report of the missed reload"
grep -q "determinism: the failing schedule replayed twice with identical events" "$tmp/found" \
    || fail "the determinism self-check did not confirm the failure"
line=$(grep -m1 -o 'DETSIM_SCHEDULE=.*' "$tmp/found") || fail "no DETSIM_SCHEDULE replay line"
want='RUSTFLAGS="--cfg detsim" cargo test -p tokio-service --target-dir target/detsim --test config -- --exact waiter_sees_the_reload'
[[ $line == *" $want" ]] || fail "the replay line does not name the test: $line"
echo "   replay line: $line"

echo "-- the replay line, run as printed in a child shell, reproduces it"
if bash -c "$line" >"$tmp/replayed" 2>&1; then
    fail "the replay passed"
fi
grep -q "the waiter missed the reload" "$tmp/replayed" || fail "the replay failed differently"
grep -q "detsim: the replayed schedule fails: panic in task 0" "$tmp/replayed" \
    || fail "the replay does not say it is one"
grep -q "detsim: replay of the schedule given by DETSIM_SCHEDULE: 1 schedule run" "$tmp/replayed" \
    || fail "the replay was not a single schedule"
echo "-- tokio-service demo: both modes as expected"
