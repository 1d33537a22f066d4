#!/usr/bin/env bash
# Builds the fuzz targets and runs each for a bounded time on its committed seeds (corpus/<target>),
# writing what it discovers to grown/<target> (not committed). Stops at the first crash, leaving the
# input in artifacts/<target>/.
#
# Usage: fuzz/run.sh [SECONDS_PER_TARGET (default 20)] [TARGET...]
# Needs the nightly toolchain; installs cargo-fuzz if it is missing. Without nightly (or when
# cargo-fuzz cannot be installed) it prints a note and exits 0.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-20}"
shift || true

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: skipped: no nightly toolchain (rustup toolchain install nightly)"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    if ! cargo install cargo-fuzz --locked; then
        echo "fuzz: skipped: cargo-fuzz is not installed and could not be installed"
        exit 0
    fi
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
# No sanitizer: Castellan forbids unsafe code, and the instrumented build is half the time.
cargo +nightly fuzz build -s none
for t in "${targets[@]}"; do
    mkdir -p "grown/$t"
    echo "fuzz: $t for ${secs}s"
    log="grown/$t.log"
    if cargo +nightly fuzz run -s none "$t" "grown/$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^Done' "$log" || true
    else
        tail -n 40 "$log"
        echo "fuzz: $t FAILED; the input is in fuzz/artifacts/$t/"
        exit 1
    fi
done
