#!/usr/bin/env bash
# bench/run.sh — the whole load benchmark in one command (docs/performance.md).
#
# 1. builds Patron (Release) and Patron.Bench,
# 2. creates a throwaway PostgreSQL cluster under /tmp on a free loopback port (as the postgres user),
# 3. seeds the demo chain into patron_bench and generates BENCH_MEMBERS members with a year of history,
# 4. starts the Patron server on a free loopback port (background jobs off),
# 5. runs pgbench tpcb-like with the same number of clients and seconds (bench/baseline.sh),
# 6. drives the server over HTTP with BENCH_TERMINALS terminals for BENCH_SECONDS seconds,
# 7. prints the table with every figure also as a ratio to pgbench, and stops everything.
#
# Settings (environment):
#   BENCH_MEMBERS=100000   members to generate          BENCH_TERMINALS=8   concurrent terminals = pgbench clients
#   BENCH_SECONDS=60       measured seconds (both)      BENCH_WARMUP=5      HTTP warm-up seconds, not measured
#   BENCH_MIX=identify=40,quote=25,commit=30,return=5   BENCH_SCALE=10      pgbench -i scale
#   BENCH_BASELINE_AFTER=1 run pgbench again after the HTTP load, to show how much the machine drifted
#   PATRON_SERVER_DLL=…    use this Patron.Server.dll instead of building src/Patron.Server
#   BENCH_DB_OPTIONS=…     appended to the server's connection string only, e.g. ";Max Auto Prepare=64"
#   BENCH_OUT=DIR          keep logs and results there (default /tmp/patron-bench-last)
#   BENCH_KEEP=1           leave the cluster's folder behind (it is always stopped)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
members=${BENCH_MEMBERS:-100000}
terminals=${BENCH_TERMINALS:-8}
seconds=${BENCH_SECONDS:-60}
warmup=${BENCH_WARMUP:-5}
mix=${BENCH_MIX:-identify=40,quote=25,commit=30,return=5}
scale=${BENCH_SCALE:-10}
baseline_after=${BENCH_BASELINE_AFTER:-1}
out=${BENCH_OUT:-/tmp/patron-bench-last}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

. "$here/lib.sh"

started=$(date +%s.%N)
mkdir -p "$out"
rm -f "$out"/*.log "$out"/*.txt "$out"/*.json

build_patron_and_bench

work=$(mktemp -d /tmp/patron-bench.XXXXXX)
server_pid=""
cleanup() {
    local status=$?
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    stop_cluster "$work"
    cp "$work"/*.log "$out"/ 2>/dev/null || true
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT INT TERM

start_cluster "$work" patron_bench
log "throwaway PostgreSQL cluster in $work/pg on 127.0.0.1:$pg_port"

log "seed-demo (migrates, creates the demo chain, publishes P1, prints the terminal key)"
t=$(date +%s.%N)
(cd "$(dirname "$PATRON_SERVER_DLL")" && dotnet "$PATRON_SERVER_DLL" seed-demo --db "$conn") >"$work/seed.log" 2>&1 || { cat "$work/seed.log"; exit 1; }
key=$(grep -o 'ptk_[A-Za-z0-9_-]*' "$work/seed.log" | head -1)
[ -n "$key" ] || { echo "no terminal key in the seed output"; cat "$work/seed.log"; exit 1; }
echo "seeded in $(elapsed "$t") s; terminal key of BJ001 found"

log "generating $members members"
dotnet "$bench_dll" generate --db "$conn" --members "$members" | tee "$work/generate.log"

start_patron_server "$conn" "$work"

log "baseline: pgbench tpcb-like, $terminals clients, $seconds s"
"$here/baseline.sh" -h 127.0.0.1 -p "$pg_port" -U postgres -c "$terminals" -T "$seconds" -s "$scale" -o "$out/baseline.txt" | tee "$work/baseline.log"

log "HTTP load: $terminals terminals, $warmup s warm-up + $seconds s"
status=0
dotnet "$bench_dll" run --url "http://127.0.0.1:$http_port" --key "$key" --db "$conn" \
    --terminals "$terminals" --seconds "$seconds" --warmup "$warmup" --mix "$mix" \
    --server-pid "$server_pid" --baseline "$out/baseline.txt" --json "$out/result.json" | tee "$work/run.log" || status=$?

if [ "$baseline_after" = 1 ]; then
    log "baseline again after the load (drift between the two is the machine's noise)"
    "$here/baseline.sh" -h 127.0.0.1 -p "$pg_port" -U postgres -c "$terminals" -T "$seconds" -s "$scale" -o "$out/baseline-after.txt" | tee "$work/baseline-after.log"
    before=$(sed -n 's/^tps=//p' "$out/baseline.txt")
    after=$(sed -n 's/^tps=//p' "$out/baseline-after.txt")
    awk -v b="$before" -v a="$after" 'BEGIN { printf "pgbench before the load: %.1f tps, after: %.1f tps (%+.1f%%)\n", b, a, (a - b) / b * 100 }' | tee -a "$work/run.log"
fi

log "done in $(elapsed "$started") s; logs and result.json in $out"
{
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "postgres: $("$pgbin/postgres" --version)"
    echo "dotnet: $(dotnet --version)"
} | tee "$out/machine.txt"
exit "$status"
