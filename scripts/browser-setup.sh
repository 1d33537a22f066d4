#!/usr/bin/env bash
# Installs what the browser tests need: Debian's chromium (never a downloaded browser), playwright-core and axe-core
# from npm (browser/package-lock.json). Prints the chromium path on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="${CASTELLAN_CHROMIUM:-/usr/bin/chromium}"
if ! [ -x "$chromium" ]; then
  echo "installing Debian's chromium" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: $chromium is missing and installing it needs root: run 'apt-get install -y chromium' as root," >&2
    echo "       or set CASTELLAN_CHROMIUM to a Chromium binary" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends chromium >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends chromium >&2; }
fi

if ! [ -f browser/node_modules/playwright-core/package.json ] || ! [ -f browser/node_modules/axe-core/axe.min.js ]; then
  echo "installing playwright-core and axe-core from npm" >&2
  (cd browser && npm ci --no-audit --no-fund >&2)
fi
echo "$chromium"
