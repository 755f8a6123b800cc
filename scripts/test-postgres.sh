#!/usr/bin/env bash
# Starts a PostgreSQL of the tests' own and prints its URL: a throwaway cluster on the machine's
# PostgreSQL binaries, durability off (fsync, full-page writes: a test database is made from a
# template and dropped minutes later; a crash loses it either way). Each test gets a database
# copied from a template and dropped after it; on the machine's durable server those two steps
# wait on the disk (about 1 s together here), on this one they don't (about 0.3 s).
#
#   scripts/test-postgres.sh start   prints postgresql+psycopg://postgres@/postgres?host=<dir>&port=<port>
#   scripts/test-postgres.sh stop
#
# Prints nothing and fails when the binaries are missing (the caller falls back to the server).
set -euo pipefail

root=${SHUHUI_TEST_PG_DIR:-/tmp/shuhui-test-postgres}
port=${SHUHUI_TEST_PG_PORT:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || exit 1

# PostgreSQL refuses to run as root: as root, the cluster is the postgres user's.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    if ! as_owner "$bin/pg_ctl" -D "$root/data" status >/dev/null 2>&1; then
      rm -rf "$root"
      mkdir -p "$root"
      [ "$(id -u)" -eq 0 ] && chown postgres "$root"
      as_owner "$bin/initdb" -D "$root/data" -A trust -U postgres --no-sync -E UTF8 \
        --locale=C.UTF-8 >"$root/initdb.log" 2>&1
      as_owner "$bin/pg_ctl" -D "$root/data" -l "$root/server.log" -w -o "-p $port -k $root \
        -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off \
        -c synchronous_commit=off -c wal_level=minimal -c max_wal_senders=0 \
        -c max_connections=300 -c shared_buffers=256MB" start >/dev/null
    fi
    # Over its Unix socket: a query's round trip is shorter than over TCP, and tests make many.
    echo "postgresql+psycopg://postgres@/postgres?host=${root}&port=${port}"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$root/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$root"
    ;;
esac
