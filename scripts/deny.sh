#!/usr/bin/env bash
# Dependency hygiene without network access to advisory databases: banned or wildcard
# dependencies, licenses outside deny.toml's list, and sources other than crates.io.
# Installs cargo-deny from crates.io when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo deny --version >/dev/null 2>&1; then
    echo "deny: installing cargo-deny"
    cargo install cargo-deny --locked
fi
cargo deny check bans licenses sources
