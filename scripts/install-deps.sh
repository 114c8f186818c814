#!/usr/bin/env bash
# Installs what `make run` / `make test` need on a fresh Debian 12 / Ubuntu machine,
# skipping whatever is already there. Safe to run again.
set -euo pipefail

need_apt=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
# postgresql: the throwaway cluster of scripts/with-postgres.sh (make test-pg).
for p in build-essential pkg-config postgresql curl; do
  have_pkg "$p" || need_apt+=("$p")
done
# The till app (Tauri 2 on WebKitGTK), its tests in a real window (Xvfb, WebKitWebDriver).
for p in libwebkit2gtk-4.1-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev \
         xvfb xauth webkit2gtk-driver; do
  have_pkg "$p" || need_apt+=("$p")
done
# Node.js >= 20 and npm build the UI (Vite); Debian's nodejs is used when none is present.
if ! command -v npm >/dev/null 2>&1; then
  for p in nodejs npm; do
    have_pkg "$p" || need_apt+=("$p")
  done
fi
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
# tauri-driver: the WebDriver bridge of the app tests (make test-app), from crates.io.
if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "==> installing tauri-driver (cargo install, about 2 minutes)"
  cargo install tauri-driver --locked --quiet
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "==> Node.js $(node --version 2>/dev/null || echo none) found; the UI build needs Node.js >= 20.19" >&2
  exit 1
fi
echo "==> dependencies ok"
