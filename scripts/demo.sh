#!/usr/bin/env bash
# make run: the central server with demo members on 127.0.0.1, and the till app registered
# to it. Data lives in demo-data/ (delete it to start over). DEMO_MEMBERS=1000000 for a
# million members; DEMO_PORT to change the port.
set -euo pipefail
cd "$(dirname "$0")/.."

MEMBERS=${DEMO_MEMBERS:-10000}
PORT=${DEMO_PORT:-8787}
PROFILE=${DEMO_PROFILE:-debug}
BIN=${CARGO_TARGET_DIR:-target}/$PROFILE
DATA=$PWD/demo-data
SERVER_DIR=$DATA/server
OWNER_PIN=1111
CASHIER_PIN=2222
mkdir -p "$SERVER_DIR"

export LOYALTY_DATA_DIR=$SERVER_DIR
export LOYALTY_LISTEN=127.0.0.1:$PORT
export LOYALTY_LOG=${LOYALTY_LOG:-warn}

"$BIN/loyalty-server" migrate >/dev/null
CSV=$DATA/members-$MEMBERS.csv
if [ ! -f "$CSV" ]; then
  echo "==> generating $MEMBERS demo members"
  python3 scripts/demo-members.py "$MEMBERS" "$CSV"
fi
echo "==> importing $CSV (a second run finds it already imported)"
"$BIN/loyalty-server" import "$CSV"

if [ ! -f "$DATA/till.token" ]; then
  "$BIN/loyalty-server" till add --store "Demo shop" | tee "$DATA/till-add.txt"
  sed -n 's/^token: *//p' "$DATA/till-add.txt" > "$DATA/till.token"
  rm -f "$DATA/till-add.txt"
fi

# The owner's back-office token (dashboard, trigger lists): made once; a new one would
# replace it on the server.
if [ ! -s "$DATA/owner.token" ]; then
  (umask 077; "$BIN/loyalty-server" owner token | sed -n 's/^owner token: *//p' > "$DATA/owner.token")
fi

"$BIN/loyalty-server" serve &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done

cat <<MSG

  Loyalty till demo
  -----------------
  server      http://127.0.0.1:$PORT  (data: $SERVER_DIR)
  first run   the setup form is pre-filled: press Enter, wait for the members to load
  PINs        owner $OWNER_PIN, cashier $CASHIER_PIN
  try cards   2700000000014 (50 points), 2700000000021, or a phone: 8 916 000-00-05
  keys        F2 scan, F4 return, F5 enrol, F6 history, F7 lost card, F8 owner (dashboard,
              trigger lists; owner PIN), F10 log out

MSG

export LOYALTY_TILL_DATA_DIR=$DATA/till
export LOYALTY_SERVER_URL=http://127.0.0.1:$PORT
LOYALTY_DEVICE_TOKEN=$(cat "$DATA/till.token")
export LOYALTY_DEVICE_TOKEN
LOYALTY_OWNER_TOKEN=$(cat "$DATA/owner.token")
export LOYALTY_OWNER_TOKEN
export LOYALTY_OWNER_PIN=$OWNER_PIN LOYALTY_CASHIER_PIN=$CASHIER_PIN
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "==> no display on this machine: running the till app under Xvfb (a virtual screen);"
  echo "    run make run on a desktop to see the window. Ctrl+C stops the demo."
  xvfb-run -a -s "-screen 0 1024x768x24" "$BIN/loyalty-till-app"
else
  "$BIN/loyalty-till-app"
fi
