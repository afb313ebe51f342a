#!/usr/bin/env bash
# Property-based fuzzing of the REST API against its own OpenAPI document, on SQLite and on
# PostgreSQL: Schemathesis reads GET /openapi.json, sends schema-valid requests generated
# from it, and fails on any 5xx, any response the document does not describe, and any
# schema-valid request refused for a reason the schema does not state (scripts/fuzz-api.toml
# says which refusals are allowed). CI runs it after the tests; run it yourself after
# changing a route, a DTO or a domain rule.
#
# Environment:
#   PG_SERVER_URL      PostgreSQL server without a database name, on which a throw-away
#                      database is created and dropped (default postgres://postgres@127.0.0.1:5432)
#   FUZZ_SEED          seed of the generator (default fixed, so runs are reproducible)
#   FUZZ_MAX_EXAMPLES  generated cases per operation and phase (default 40)
#   FUZZ_STORES        which stores to fuzz (default "sqlite postgres")
set -euo pipefail

readonly SCHEMATHESIS_VERSION=4.32.5
readonly SEED="${FUZZ_SEED:-20261201}"
readonly MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-40}"
server="${PG_SERVER_URL:-postgres://postgres@127.0.0.1:5432}"
server="${server%/}"

cd "$(dirname "$0")/.."
readonly VENV=target/fuzz-venv
# The binary's name and the variables' prefix, from where the build takes them.
service_setting() {
    sed -n "s/^$1 = { value = \"\(.*\)\", force = true }$/\1/p" .cargo/config.toml
}
readonly NAME="$(service_setting SERVICE_NAME)" PREFIX="$(service_setting SERVICE_ENV_PREFIX)"
readonly BIN="target/debug/$NAME"

# Schemathesis, pinned, in a virtualenv of its own under target/ (so `cargo clean` removes
# it and nothing is installed into the system Python).
if [[ "$("$VENV/bin/st" --version 2>/dev/null || true)" != *"$SCHEMATHESIS_VERSION"* ]]; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --locked --quiet --bin "$NAME"

work="$(mktemp -d)"
server_pid=""
database=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ -n "$database" ]]; then
        psql "$server/postgres" -q -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" \
            >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the service on the store DATABASE_URL names, creates an API key, fuzzes, stops.
fuzz() {
    local store="$1" port key
    port="$(free_port)"
    export "${PREFIX}_ADDR=127.0.0.1:$port" "${PREFIX}_LOG_FORMAT=json"
    key="$("$BIN" api-key create --name fuzzer)"
    "$BIN" serve >"$work/$store.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
        sleep 0.1
    done

    printf '\n==> fuzzing the API on %s (seed %s, %s cases per operation)\n' \
        "$store" "$SEED" "$MAX_EXAMPLES"
    local status=0
    "$VENV/bin/st" --config-file scripts/fuzz-api.toml run \
        "http://127.0.0.1:$port/openapi.json" \
        --header "Authorization: Bearer $key" \
        --seed "$SEED" --max-examples "$MAX_EXAMPLES" --workers 2 \
        --no-color --warnings off \
        --report junit --report-junit-path "$work/$store.xml" || status=$?

    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    if [[ $status -ne 0 ]]; then
        echo "the fuzzer failed on $store; the service's log follows" >&2
        grep -v '"level":"INFO"' "$work/$store.log" | tail -n 40 >&2 || true
        return "$status"
    fi
}

for store in ${FUZZ_STORES:-sqlite postgres}; do
    case "$store" in
        sqlite)
            unset DATABASE_URL
            export "${PREFIX}_SQLITE_PATH=$work/fuzz.sqlite"
            fuzz sqlite
            ;;
        postgres)
            unset "${PREFIX}_SQLITE_PATH"
            database="fuzz_$(date +%s)_$$"
            psql "$server/postgres" -q -c "CREATE DATABASE \"$database\"" >/dev/null
            export DATABASE_URL="$server/$database"
            fuzz postgres
            ;;
        *)
            echo "unknown store $store (expected sqlite or postgres)" >&2
            exit 2
            ;;
    esac
done
echo "the API held to its document on every store"
