#!/usr/bin/env bash
# The browser tests: builds the web binaries, then drives them in headless Debian chromium through
# playwright-core (browser/*.test.mjs). Screenshots and server logs land in artifacts/ (CASTELLAN_ARTIFACTS).
set -euo pipefail
cd "$(dirname "$0")/.."

CASTELLAN_CHROMIUM="$(scripts/browser-setup.sh | tail -n1)"
export CASTELLAN_CHROMIUM

cargo build -p bookshelf --bin bookshelf -p castellan-cli --bin castellan
target_dir="$(cargo metadata --no-deps --format-version 1 |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
export BOOKSHELF_BIN="$target_dir/debug/bookshelf"
export CASTELLAN_BIN="$target_dir/debug/castellan"

rm -rf artifacts/screenshots artifacts/logs
cd browser
node --test --test-concurrency=1 --test-reporter=spec
