#!/usr/bin/env bash
# Fails when the committed .sqlx/ offline query cache no longer matches the SQL in the code or
# the schema the migrations build. CI runs it; run it yourself after changing a query or a
# migration.
#
# It needs a PostgreSQL server on which it may create a database:
#   PG_SERVER_URL   server URL without a database name
#                   (default: postgres://postgres@127.0.0.1:5432)
# It creates a throw-away database there, migrates it, compares, and drops it again.
set -euo pipefail

readonly SQLX_CLI_VERSION=0.9.0
readonly MIGRATIONS=adapters/postgres/migrations
server="${PG_SERVER_URL:-postgres://postgres@127.0.0.1:5432}"
server="${server%/}"

cd "$(dirname "$0")/.."

# `cargo sqlx --version` prints e.g. "sqlx-cli-sqlx 0.9.0".
installed="$(cargo sqlx --version 2>/dev/null | awk '{ print $NF }' || true)"
if [[ "$installed" != "$SQLX_CLI_VERSION" ]]; then
    echo "installing sqlx-cli $SQLX_CLI_VERSION (found: ${installed:-none})"
    cargo install sqlx-cli --version "$SQLX_CLI_VERSION" --locked \
        --no-default-features --features rustls,postgres
fi

# A database of our own, so concurrent CI jobs and local work never collide.
export DATABASE_URL="$server/sqlx_check_$(date +%s)_$$"
# The database is dropped however the script ends; --force ends leftover connections.
trap 'cargo sqlx database drop -y --force >/dev/null 2>&1 || true' EXIT

cargo sqlx database create
cargo sqlx migrate run --source "$MIGRATIONS" >/dev/null

# Offline data must never be consulted while checking it; the live database is the truth.
if ! SQLX_OFFLINE=false cargo sqlx prepare --workspace --check -- --all-targets; then
    cat >&2 <<EOF

The .sqlx cache is stale: a query or a migration changed without regenerating it. Run
    DATABASE_URL=postgres://… cargo sqlx prepare --workspace -- --all-targets
against a database migrated from $MIGRATIONS, and commit the changes in .sqlx/.
EOF
    exit 1
fi
echo "the .sqlx cache is up to date"
