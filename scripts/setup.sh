#!/usr/bin/env bash
# Sets up everything the project needs on a fresh Debian machine: a Java
# runtime for the HermiT reasoner (owlready2 calls it), a virtual environment
# in .venv, and the project installed in it (editable) with its test tools.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v java >/dev/null 2>&1; then
  echo "setup: no Java runtime found; installing Debian's default-jre-headless" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq default-jre-headless >/dev/null
fi

if [ ! -x /usr/bin/chromium ]; then
  # The browser tests (tests/e2e) drive Debian's Chromium; they skip, saying why, without it.
  echo "setup: no /usr/bin/chromium; installing Debian's chromium for the browser tests" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if ! { $SUDO apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; }; then
    echo "setup: warning: could not install chromium; the browser tests will be skipped" >&2
  fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
# Byte-compile the project's own modules: an editable install leaves them as
# source, and a server start would otherwise compile them every time when
# bytecode writing is off (PYTHONDONTWRITEBYTECODE), about 0.15 s of start-up.
.venv/bin/python -m compileall -q openskies ontology graph server queries bench
echo "setup: done (.venv ready; run .venv/bin/openskies --help)" >&2
