#!/usr/bin/env bash
# Installs what `make run` / `make test` need on a fresh Debian 12 / Ubuntu machine,
# skipping whatever is already there. Safe to run again.
set -euo pipefail

need_apt=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
# postgresql: the throwaway cluster of scripts/with-postgres.sh (make test-pg).
for p in build-essential pkg-config postgresql; do
  have_pkg "$p" || need_apt+=("$p")
done
# python3 with venv: Schemathesis for make fuzz-api (scripts/fuzz-api.sh installs it from PyPI).
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  for p in python3 python3-venv; do
    have_pkg "$p" || need_apt+=("$p")
  done
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "==> installing apt packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    echo "==> cargo is in ~/.cargo/bin: add it to PATH (source ~/.cargo/env)" >&2
  else
    echo "==> no Rust toolchain found: install one with rustup (https://rustup.rs), then run this again" >&2
  fi
  exit 1
fi
for comp in rustfmt clippy; do
  if ! cargo "${comp/rustfmt/fmt}" --version >/dev/null 2>&1; then
    command -v rustup >/dev/null 2>&1 && rustup component add "$comp"
  fi
done
echo "==> dependencies ok"
