#!/usr/bin/env bash
# Checks that an application built on castellan-store's default features (SQLite only) does not
# compile the PostgreSQL or MariaDB drivers, nor the `rsa` crate the MySQL driver brings.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for crate in sqlx-mysql sqlx-postgres rsa; do
    if cargo tree -p minimal -e normal -i "$crate" 2>/dev/null | grep -q "^$crate "; then
        echo "sqlite-only: examples/minimal depends on $crate:" >&2
        cargo tree -p minimal -e normal -i "$crate" >&2
        status=1
    fi
done
if [ "$status" -eq 0 ]; then
    echo "sqlite-only: examples/minimal builds without the PostgreSQL and MariaDB drivers"
fi
exit "$status"
