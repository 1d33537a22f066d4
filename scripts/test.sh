#!/usr/bin/env bash
# The test command: every test of the workspace against SQLite, PostgreSQL and MariaDB, plus the
# interoperability tests against real Django 6.1 (installed into a virtualenv from PyPI).
#
# Servers default to the local ones; override with CASTELLAN_TEST_POSTGRES / CASTELLAN_TEST_MYSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh
export CASTELLAN_TEST_POSTGRES="${CASTELLAN_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
export CASTELLAN_TEST_MYSQL="${CASTELLAN_TEST_MYSQL:-mysql://root@127.0.0.1:3306/test}"
export CASTELLAN_REQUIRE_SERVERS=1
CASTELLAN_DJANGO_PYTHON="$(scripts/django-venv.sh | tail -n1)"
export CASTELLAN_DJANGO_PYTHON
export CASTELLAN_REQUIRE_DJANGO=1

cargo test --workspace --all-targets
cargo test --workspace --doc

# Headless-Chromium tests of the web UIs (Debian's chromium + playwright-core from npm);
# screenshots in artifacts/screenshots/.
scripts/browser-tests.sh
