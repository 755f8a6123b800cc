#!/usr/bin/env bash
# Creates .venv with the given Python. Debian splits venv out of the interpreter, so a fresh
# machine may need python3-venv first.
set -euo pipefail
python="${1:-python3}"
venv="${2:-.venv}"

"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "Shuhui needs Python 3.11 or newer; $python is $("$python" --version 2>&1)" >&2; exit 1; }

if ! "$python" -m venv "$venv" 2>/dev/null; then
  rm -rf "$venv"
  echo "python venv module missing: installing python3-venv"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
