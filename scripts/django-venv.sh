#!/usr/bin/env bash
# Create (or reuse) the Python virtualenv used by the Django interop harness (interop/).
#
#   scripts/django-venv.sh [DIR]
#
# DIR defaults to $DJANGO_VENV, then <repo>/.venv-django.  Needs Python >= 3.12 (tried in order:
# python3.13, python3.12, then pyenv's 3.13.0 / 3.12.1 through `python3`).  Installs pinned
# Django, psycopg[binary], argon2-cffi, bcrypt, django-guardian, PyMySQL and gunicorn from PyPI.  Idempotent: an existing venv that
# already has exactly the pinned packages is reused untouched.
# Progress goes to stderr; the LAST line of stdout is the venv's python path, so callers can do
#   PY=$(scripts/django-venv.sh | tail -n1)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-${DJANGO_VENV:-$repo/.venv-django}}"

# Keep these in sync with interop/README.md.
PINS=(
  "Django==6.1.3"
  "psycopg[binary]==3.3.9"
  "argon2-cffi==25.1.0"
  "bcrypt==5.0.0"
  "django-guardian==3.5.2"
  "PyMySQL==1.1.2"
  "gunicorn==27.0.1"
)

log() { printf 'django-venv: %s\n' "$*" >&2; }

# Python snippet that succeeds iff the interpreter is >= 3.12.
ver_ok='import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'
# Same check, printing the interpreter's real path on success.
find_ok='import sys; assert sys.version_info >= (3, 12); print(sys.executable)'
# Python snippet that succeeds iff the pinned packages are importable at the pinned versions.
pins_ok='
import sys
from importlib.metadata import version, PackageNotFoundError
want = {"django": "6.1.3", "psycopg": "3.3.9", "psycopg-binary": "3.3.9", "argon2-cffi": "25.1.0", "bcrypt": "5.0.0", "django-guardian": "3.5.2", "PyMySQL": "1.1.2", "gunicorn": "27.0.1"}
try:
    bad = [n for n, v in want.items() if version(n) != v]
    import django, psycopg, argon2, bcrypt, guardian, pymysql, gunicorn  # noqa: F401
except (PackageNotFoundError, ImportError) as e:
    print(e, file=sys.stderr); sys.exit(1)
sys.exit(1 if bad else 0)
'

venv_py="$venv/bin/python"
if [[ -x "$venv_py" ]] && "$venv_py" -c "$ver_ok" 2>/dev/null && "$venv_py" -c "$pins_ok" 2>/dev/null; then
  log "reusing $venv"
  echo "$venv_py"
  exit 0
fi

# Find a base interpreter: print its real sys.executable.
find_python() {
  local exe
  for cand in python3.13 python3.12; do
    if command -v "$cand" >/dev/null 2>&1 && exe="$("$cand" -c "$find_ok" 2>/dev/null)"; then
      echo "$exe"; return 0
    fi
  done
  for pv in 3.13.0 3.12.1; do
    if command -v python3 >/dev/null 2>&1 && exe="$(PYENV_VERSION="$pv" python3 -c "$find_ok" 2>/dev/null)"; then
      echo "$exe"; return 0
    fi
  done
  return 1
}

if ! base_py="$(find_python)"; then
  log "ERROR: no Python >= 3.12 found (tried python3.13, python3.12, PYENV_VERSION=3.13.0 python3, PYENV_VERSION=3.12.1 python3)."
  log "Install Python 3.12+ (e.g. 'pyenv install 3.13.0') and re-run."
  exit 1
fi
log "base interpreter: $base_py ($("$base_py" -V 2>&1))"

if [[ -e "$venv" ]]; then
  if [[ -f "$venv/pyvenv.cfg" ]]; then
    log "existing venv at $venv is incomplete or outdated; rebuilding it"
    "$base_py" -m venv --clear "$venv" >&2
  else
    log "ERROR: $venv exists and is not a virtualenv; refusing to overwrite it"
    exit 1
  fi
else
  log "creating $venv"
  "$base_py" -m venv "$venv" >&2
fi

"$venv_py" -m pip install --quiet --disable-pip-version-check --no-input "${PINS[@]}" >&2
if ! "$venv_py" -c "$pins_ok" >&2; then
  log "ERROR: packages in $venv do not match the pins after installation"
  exit 1
fi
log "ready: $("$venv_py" -c 'import django, sys; print("Python", sys.version.split()[0], "Django", django.get_version())')"
echo "$venv_py"
