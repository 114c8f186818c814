#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster:
#   scripts/with-postgres.sh cargo test -p loyalty-server
# initdb in a temp dir (as the `postgres` system user when run as root), starts it on a
# free 127.0.0.1 port (unix socket in the temp dir too), creates a database, exports
# LOYALTY_TEST_PG_URL=postgres://loyalty@127.0.0.1:PORT/loyalty_test, runs the command,
# then stops the cluster and removes the temp dir whatever happens.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

bindir=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then bindir="$d"; break; fi
done
if [ -z "$bindir" ]; then
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    bindir="$(dirname "$(command -v initdb)")"
  else
    echo "with-postgres: no initdb/pg_ctl found (install the 'postgresql' package: scripts/install-deps.sh)" >&2
    exit 1
  fi
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/loyalty-pg.XXXXXX")"
data="$tmp/data"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: use the system user the package creates.
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  chown postgres: "$tmp"
  chmod 700 "$tmp"
  as_pg=(runuser -u postgres --)
fi

cleanup() {
  local rc=$?
  if [ -f "$data/postmaster.pid" ]; then
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null && return
  # No python: pick a random high port that nothing listens on.
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  return 1
}

"${as_pg[@]}" "$bindir/initdb" -D "$data" -U loyalty --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$tmp/initdb.log" 2>&1 \
  || "${as_pg[@]}" "$bindir/initdb" -D "$data" -U loyalty --auth=trust -E UTF8 --no-sync >"$tmp/initdb.log" 2>&1 \
  || { cat "$tmp/initdb.log" >&2; exit 1; }

started=""
for _ in 1 2 3 4 5; do
  port="$(free_port)"
  # Throwaway: no fsync; enough connections for parallel tests (each holds a small pool).
  if "${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -l "$tmp/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null; then
    started=1
    break
  fi
done
if [ -z "$started" ]; then
  cat "$tmp/server.log" >&2 || true
  echo "with-postgres: the cluster did not start" >&2
  exit 1
fi

"${as_pg[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U loyalty loyalty_test
export LOYALTY_TEST_PG_URL="postgres://loyalty@127.0.0.1:$port/loyalty_test"
echo "with-postgres: $("$bindir/postgres" --version | head -1) at $LOYALTY_TEST_PG_URL" >&2
"$@"
