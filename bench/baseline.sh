#!/usr/bin/env bash
# bench/baseline.sh — PostgreSQL's own pgbench (built-in tpcb-like script) against the same
# PostgreSQL server that Patron uses, so that Patron's figures can be read as ratios of what this
# machine's database does at its simplest. It starts nothing: point it at a running server.
#
# usage: bench/baseline.sh [-h HOST] [-p PORT] [-U USER] [-d DATABASE] [-c CLIENTS] [-T SECONDS]
#                          [-s SCALE] [-o OUT_FILE]
#   -h/-p/-U  connection (default: $PGHOST, $PGPORT, $PGUSER, else 127.0.0.1 5432 postgres)
#   -d        the database pgbench fills and uses (default pgbench_baseline; created when missing,
#             re-initialised every run; never Patron's own database)
#   -c        clients, also the number of pgbench threads (default 8: use the terminals' number)
#   -T        seconds (default 60)
#   -s        scale factor for pgbench -i (default 10: 1,000,000 accounts)
#   -o        also write the figures as key=value lines (read by Patron.Bench run --baseline)
#
# Prints tps and latency average as pgbench reports them, plus p50/p95/p99 computed from the
# per-transaction log (pgbench -l), so that percentiles compare like with like.
set -euo pipefail

host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}
user=${PGUSER:-postgres}
db=pgbench_baseline
clients=8
seconds=60
scale=10
out=""
while getopts "h:p:U:d:c:T:s:o:" opt; do
    case "$opt" in
        h) host=$OPTARG ;;
        p) port=$OPTARG ;;
        U) user=$OPTARG ;;
        d) db=$OPTARG ;;
        c) clients=$OPTARG ;;
        T) seconds=$OPTARG ;;
        s) scale=$OPTARG ;;
        o) out=$OPTARG ;;
        *) sed -n '2,20p' "$0"; exit 2 ;;
    esac
done

if [ "$db" = "patron_bench" ] || [ "$db" = "patron" ]; then
    echo "baseline: refusing to initialise pgbench tables in '$db'; use a database of its own" >&2
    exit 2
fi

# pgbench and psql from PATH, else from the newest PostgreSQL installed by Debian.
pgbin=""
if ! command -v pgbench >/dev/null; then
    pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$pgbin" ] || { echo "baseline: pgbench not found (apt-get install postgresql)" >&2; exit 1; }
    pgbin="$pgbin/"
fi

conn=(-h "$host" -p "$port" -U "$user")
exists=$("${pgbin}psql" "${conn[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")
if [ "$exists" != "1" ]; then
    "${pgbin}createdb" "${conn[@]}" "$db"
fi

tmp=$(mktemp -d /tmp/pgbench-baseline.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "baseline: pgbench -i -s $scale into $db on $host:$port"
start=$(date +%s.%N)
"${pgbin}pgbench" "${conn[@]}" -i -q -s "$scale" "$db" >"$tmp/init.log" 2>&1 || { cat "$tmp/init.log" >&2; exit 1; }
echo "baseline: initialised in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"

# Busy CPU seconds of the whole machine (all cores), from /proc/stat: user+nice+system+irq+softirq+steal.
busy() { awk '/^cpu / { print ($2 + $3 + $4 + $7 + $8 + $9) / 100; exit }' /proc/stat; }

echo "baseline: pgbench -c $clients -j $clients -T $seconds (tpcb-like)"
busy0=$(busy)
(cd "$tmp" && "${pgbin}pgbench" "${conn[@]}" -c "$clients" -j "$clients" -T "$seconds" -l --log-prefix=txn "$db") >"$tmp/run.log" 2>&1 \
    || { cat "$tmp/run.log" >&2; exit 1; }

busy1=$(busy)
cores=$(awk -v a="$busy0" -v b="$busy1" -v t="$seconds" 'BEGIN { printf "%.2f", (b - a) / t }')
tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$tmp/run.log" | tail -1)
avg=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$tmp/run.log")
txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$tmp/run.log")
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$tmp/run.log")

# Per-transaction log lines: client_id transaction_no latency_us script_no epoch epoch_us.
cat "$tmp"/txn.* | awk '{ print $3 / 1000 }' | sort -g >"$tmp/latencies"
n=$(wc -l <"$tmp/latencies")
pct() { # nearest rank
    local rank
    rank=$(awk -v n="$n" -v p="$1" 'BEGIN { r = int(n * p / 100); if (r < n * p / 100) r++; if (r < 1) r = 1; print r }')
    sed -n "${rank}p" "$tmp/latencies"
}
p50=$(pct 50)
p95=$(pct 95)
p99=$(pct 99)

printf 'baseline: %s tps, latency avg %s ms, p50 %.2f ms, p95 %.2f ms, p99 %.2f ms (%s transactions, %s failed); machine %s cores busy\n' \
    "$tps" "$avg" "$p50" "$p95" "$p99" "$txns" "${failed:-0}" "$cores"

if [ -n "$out" ]; then
    {
        echo "# pgbench tpcb-like, $(date -u +%Y-%m-%dT%H:%M:%SZ), $host:$port/$db"
        echo "clients=$clients"
        echo "seconds=$seconds"
        echo "scale=$scale"
        echo "tps=$tps"
        echo "latency_avg_ms=$avg"
        echo "latency_p50_ms=$p50"
        echo "latency_p95_ms=$p95"
        echo "latency_p99_ms=$p99"
        echo "transactions=$txns"
        echo "failed=${failed:-0}"
        echo "machine_busy_cores=$cores"
    } >"$out"
fi
