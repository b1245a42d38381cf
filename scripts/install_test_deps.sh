#!/usr/bin/env bash
# Everything the tests use, on a Debian machine that has never seen this project (run as root, or with sudo):
# LibreOffice (workbooks and documents are re-opened by it), poppler (PDF pages to PNG), Chromium (the link page),
# npm (for axe-core, the accessibility audit the browser tests run on every page), then a virtual environment with
# the pinned Python packages in .venv. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc libreoffice-writer)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing from Debian: ${need[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-dejavu-core >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements-dev.txt

# axe-core, pinned: tests/e2e/test_pages_accessible.py injects its axe.min.js into every contributor page (WCAG 2.2 AA).
# Into tests/vendor (git-ignored); npm checks the package's integrity against the registry's. Re-run: skipped when the
# pinned version is already there.
AXE_VERSION=4.14.1
AXE_DIR=tests/vendor/node_modules/axe-core
if [ "$(node -p "try{require('./$AXE_DIR/package.json').version}catch(e){''}" 2>/dev/null)" != "$AXE_VERSION" ]; then
  echo "installing axe-core $AXE_VERSION from npm into tests/vendor"
  mkdir -p tests/vendor
  npm install --prefix tests/vendor --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
    "axe-core@$AXE_VERSION" >/dev/null
fi
test -s "$AXE_DIR/axe.min.js"
