#!/usr/bin/env bash
# bench/pages.sh — console page times with the bench chain (docs/performance.md, "Console pages at 100,000 members").
#
# 1. builds Patron (Release) and Patron.Bench,
# 2. creates a throwaway PostgreSQL cluster, seeds the demo chain and generates BENCH_MEMBERS members
#    with a year of history (the same setup as bench/run.sh), then VACUUM ANALYZE,
# 3. starts the Patron server (background jobs off),
# 4. signs in as each of PAGES_USERS and requests every console page PAGES_ITERATIONS times after
#    PAGES_WARMUP rounds, one request at a time, and prints server (Server-Timing) and client times.
#
# Settings (environment):
#   BENCH_MEMBERS=100000       members to generate            PAGES_ITERATIONS=20   measured rounds
#   PAGES_WARMUP=3             warm-up rounds                 PAGES_USERS=admin,manager,cashier1
#   PAGES_AUDIT_ROWS=200000    audit entries to have          PAGES_ONLY=TEXT       only pages whose name contains TEXT
#   PATRON_SERVER_DLL=…        use this Patron.Server.dll instead of building src/Patron.Server
#   BENCH_PG_CONN=…            use this already seeded and generated database (no cluster is made)
#   BENCH_DB_OPTIONS=…         appended to the server's connection string only
#   BENCH_OUT=DIR              logs and pages.json (default /tmp/patron-pages-last)
#   BENCH_KEEP=1               leave the cluster's folder behind (it is always stopped)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
members=${BENCH_MEMBERS:-100000}
out=${BENCH_OUT:-/tmp/patron-pages-last}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

. "$here/lib.sh"

started=$(date +%s.%N)
mkdir -p "$out"
rm -f "$out"/*.log "$out"/*.json

build_patron_and_bench

work=$(mktemp -d /tmp/patron-pages.XXXXXX)
server_pid=""
cleanup() {
    local status=$?
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    [ -n "${BENCH_PG_CONN:-}" ] || stop_cluster "$work"
    cp "$work"/*.log "$out"/ 2>/dev/null || true
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT INT TERM

if [ -n "${BENCH_PG_CONN:-}" ]; then
    conn=$BENCH_PG_CONN
    log "using the database of BENCH_PG_CONN (already seeded and generated)"
else
    start_cluster "$work" patron_bench
    log "throwaway PostgreSQL cluster in $work/pg on 127.0.0.1:$pg_port"

    log "seed-demo (migrates, creates the demo chain and its staff, publishes P1)"
    t=$(date +%s.%N)
    (cd "$(dirname "$PATRON_SERVER_DLL")" && dotnet "$PATRON_SERVER_DLL" seed-demo --db "$conn") >"$work/seed.log" 2>&1 || { cat "$work/seed.log"; exit 1; }
    echo "seeded in $(elapsed "$t") s"

    log "generating $members members"
    dotnet "$bench_dll" generate --db "$conn" --members "$members" | tee "$work/generate.log"

    # A database that has been in use has been vacuumed by autovacuum (which sets the visibility
    # map that index-only scans rely on); a table just filled by COPY has not, yet.
    log "VACUUM ANALYZE (what autovacuum does to a database in use)"
    t=$(date +%s.%N)
    "$pgbin/vacuumdb" -h 127.0.0.1 -p "$pg_port" -U postgres -d patron_bench -z -q
    echo "vacuumed in $(elapsed "$t") s"
fi

start_patron_server "$conn" "$work"

log "console pages: ${PAGES_WARMUP:-3} warm-up + ${PAGES_ITERATIONS:-20} measured rounds"
dotnet "$bench_dll" pages --url "http://127.0.0.1:$http_port" --db "$conn" \
    --users "${PAGES_USERS:-admin,manager,cashier1}" --iterations "${PAGES_ITERATIONS:-20}" --warmup "${PAGES_WARMUP:-3}" \
    --audit-rows "${PAGES_AUDIT_ROWS:-200000}" ${PAGES_ONLY:+--only "$PAGES_ONLY"} --json "$out/pages.json" | tee "$work/pages.log"

log "done in $(elapsed "$started") s; logs and pages.json in $out"
{
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "postgres: $("$pgbin/postgres" --version)"
    echo "dotnet: $(dotnet --version)"
    echo "commit: $(git -C "$root" rev-parse --short HEAD)"
} | tee "$out/machine.txt"
