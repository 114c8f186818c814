#!/usr/bin/env bash
# Fuzzes the live HTTP API with Schemathesis against the server's own OpenAPI document:
#   scripts/fuzz-api.sh                                         # SQLite (a temp data dir)
#   scripts/with-postgres.sh scripts/fuzz-api.sh --postgres     # on $LOYALTY_TEST_PG_URL
# Installs Schemathesis (pinned) into a venv under the cache dir when missing (PyPI only),
# builds and starts `loyalty-server serve` on a free 127.0.0.1 port with a temp data dir,
# registers a till (and a revoked one), gives the server one customer
# (scripts/fuzz_api_seed.py) and fuzzes every operation (examples, coverage, fuzzing and
# stateful phases):
#  - with the till's token: no 5xx, only documented status codes, content types and
#    headers, every answer matches its schema, schema-valid requests are accepted,
#    schema-invalid ones refused, undocumented methods are 405;
#  - with the owner's token (`loyalty-server owner token`): the owner's endpoints (dashboard,
#    trigger lists, program versions, tills), no 5xx, conformance, invalid data refused;
#  - with no token, a wrong one and the revoked till's: the same conformance checks, and
#    `token_required` (scripts/fuzz_api_hooks.py): 401, or 429 once the address sent too
#    many wrong tokens within a minute (intended and documented; Schemathesis's own
#    `ignored_auth` check would call that 429 a failure).
# Stops the server whatever happens; exits non-zero on any failure or server error log.
#
# Knobs: FUZZ_EXAMPLES (test cases per operation and phase with the valid token, 150),
# FUZZ_NEG_EXAMPLES (per operation without a valid token, 10), FUZZ_SEED (replay a run),
# FUZZ_WORKERS (1), LOYALTY_CACHE_DIR (where the venv lives, ~/.cache/loyalty).
set -euo pipefail

ST_VERSION=4.32.5
EXAMPLES="${FUZZ_EXAMPLES:-150}"
NEG_EXAMPLES="${FUZZ_NEG_EXAMPLES:-10}"
# One worker: the server gets the other core (and CPython 3.11 < 3.11.9 can crash compiling
# regexes in several threads at once).
WORKERS="${FUZZ_WORKERS:-1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${LOYALTY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/loyalty}"
venv="$cache/schemathesis-$ST_VERSION"
st="$venv/bin/schemathesis"

backend=sqlite
case "${1:-}" in
  "") ;;
  --postgres)
    backend=postgres
    if [ -z "${LOYALTY_TEST_PG_URL:-}" ]; then
      echo "fuzz-api: --postgres needs LOYALTY_TEST_PG_URL (run it under scripts/with-postgres.sh)" >&2
      exit 2
    fi ;;
  *) echo "usage: $0 [--postgres]" >&2; exit 2 ;;
esac

if ! "$st" --version 2>/dev/null | grep -qF "$ST_VERSION"; then
  echo "==> installing schemathesis $ST_VERSION into $venv"
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

echo "==> building loyalty-server"
# The workspace graph of `make test` (same features as `cargo test --workspace`): no rebuild there.
(cd "$root" && cargo build --quiet --locked --workspace --all-targets)
bin="${CARGO_TARGET_DIR:-$root/target}/debug/loyalty-server"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/loyalty-fuzz.XXXXXX")"
server_pid=""
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$tmp/server.log" ]; then
    echo "---- server log (errors and warnings, last 40 lines) ----" >&2
    grep -E "ERROR|WARN|panick" "$tmp/server.log" | grep -v "authentication" | tail -40 >&2 || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
export LOYALTY_LISTEN="127.0.0.1:$port" LOYALTY_DATA_DIR="$tmp/data" LOYALTY_LOG=warn
unset LOYALTY_CONFIG RUST_LOG
if [ "$backend" = postgres ]; then
  export LOYALTY_DATABASE_URL="$LOYALTY_TEST_PG_URL"
else
  unset LOYALTY_DATABASE_URL
fi

field() { awk -v k="$1:" '$1 == k { print $2 }'; }
"$bin" till add --store S1 >"$tmp/till.txt"
token="$(field token <"$tmp/till.txt")"
till_id="$(field till_id <"$tmp/till.txt")"
"$bin" till add --store S2 >"$tmp/revoked.txt"
revoked_token="$(field token <"$tmp/revoked.txt")"
"$bin" till revoke "$(field till_id <"$tmp/revoked.txt")" >/dev/null
owner_token="$("$bin" owner token | awk '$1 == "owner" && $2 == "token:" { print $3 }')"
if [ -z "$token" ] || [ -z "$revoked_token" ] || [ -z "$owner_token" ]; then
  echo "fuzz-api: no token in the output of 'loyalty-server till add' or 'owner token'" >&2
  exit 1
fi

"$bin" serve >"$tmp/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
echo "==> loyalty-server ($backend) at $base"
python3 "$root/scripts/fuzz_api_seed.py" "$base" "$token" "$till_id"

export SCHEMATHESIS_HOOKS="$root/scripts/fuzz_api_hooks.py"
conformance="not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"
common=(--url "$base" --workers "$WORKERS" --generation-database none --no-color
  --wait-for-schema 60 --request-timeout 30 --suppress-health-check too_slow,filter_too_much)
[ -n "${FUZZ_SEED:-}" ] && common+=(--seed "$FUZZ_SEED")

failed=()
fuzz() {
  local name="$1"; shift
  echo "==> schemathesis: $name"
  # In the temp dir: Schemathesis leaves nothing in the work tree.
  if ! (cd "$tmp" && "$st" run "$base/api/openapi.json" "${common[@]}" "$@" >"$tmp/st-$name.txt" 2>&1); then
    cat "$tmp/st-$name.txt"
    failed+=("$name")
  else
    grep -E "^(Test cases|Seed|  [0-9]+ generated)|passed|warning" "$tmp/st-$name.txt" | tail -4 || true
  fi
}

fuzz valid-token -H "Authorization: Bearer $token" -n "$EXAMPLES" \
  --phases examples,coverage,fuzzing,stateful \
  --checks "$conformance,negative_data_rejection,positive_data_acceptance,unsupported_method"
# The owner's endpoints with the owner token (the tills' answer it with 401, as documented).
fuzz owner-token -H "Authorization: Bearer $owner_token" -n "$EXAMPLES" \
  --phases examples,coverage,fuzzing --checks "$conformance,negative_data_rejection"
# Schemathesis's own `ignored_auth` wants 401/403 only; ours also takes the documented 429.
negative=(-n "$NEG_EXAMPLES" --phases coverage,fuzzing --checks "$conformance,token_required")
fuzz no-token "${negative[@]}"
fuzz wrong-token -H "Authorization: Bearer ltk_$(printf '0%.0s' $(seq 64))" "${negative[@]}"
fuzz revoked-token -H "Authorization: Bearer $revoked_token" "${negative[@]}"

if grep -qE "panicked|ERROR" "$tmp/server.log"; then
  echo "fuzz-api: the server logged errors:" >&2
  grep -E "panicked|ERROR" "$tmp/server.log" | head -20 >&2
  failed+=("server-log")
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz-api ($backend): FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz-api ($backend): ok"
