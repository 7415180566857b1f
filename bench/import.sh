#!/usr/bin/env bash
# bench/import.sh — the member import benchmark in one command (docs/performance.md).
#
# 1. builds Patron (Release) and Patron.Bench,
# 2. creates a throwaway PostgreSQL cluster under /tmp and seeds the demo chain (program HYS-BJ),
# 3. writes a member file of IMPORT_ROWS rows (Patron.Bench members-csv),
# 4. baseline: psql \copy of the same file into a plain table of text columns (PostgreSQL's raw load speed),
# 5. runs `patron import FILE --program HYS-BJ` under /usr/bin/time and prints rows/s, the ratio to
#    the baseline and the importer's peak memory (maximum resident set size),
# 6. checks the imported ledger (balance = Σ entries = Σ lots) and stops everything.
#
# Settings (environment):
#   IMPORT_ROWS=1000000   rows in the file          IMPORT_CHUNK (not set: the importer's default)
#   IMPORT_OUT=DIR        keep logs there (default /tmp/patron-import-last)
#   PATRON_SERVER_DLL=…   use this Patron.Server.dll instead of building src/Patron.Server
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rows=${IMPORT_ROWS:-1000000}
out=${IMPORT_OUT:-/tmp/patron-import-last}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
. "$here/lib.sh"
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

mkdir -p "$out"
build_patron_and_bench

work=$(mktemp -d /tmp/patron-import.XXXXXX)
cleanup() {
    local status=$?
    stop_cluster "$work"
    cp "$work"/*.log "$out"/ 2>/dev/null || true
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT INT TERM

start_cluster "$work" patron_import
log "throwaway PostgreSQL cluster on 127.0.0.1:$pg_port; seed-demo"
(cd "$(dirname "$PATRON_SERVER_DLL")" && dotnet "$PATRON_SERVER_DLL" seed-demo --db "$conn") >"$work/seed.log" 2>&1 || { cat "$work/seed.log"; exit 1; }

file="$work/members.csv"
log "writing $rows members to $file"
dotnet "$bench_dll" members-csv --rows "$rows" --out "$file" | tee "$work/csv.log"
chmod 644 "$file"

log "baseline: \\copy of the same file into a table of text columns"
psql() { "$pgbin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d patron_import -v ON_ERROR_STOP=1 -qAt "$@"; }
psql -c "CREATE TABLE copy_baseline (name text, mobile text, gender text, birthday text, id_number text, card_number text, store text, enrolled_at text, channel text, tier text, points text, stored_principal text, stored_bonus text)"
t=$(date +%s.%N)
psql -c "\\copy copy_baseline FROM '$file' WITH (FORMAT csv, HEADER true)"
baseline_s=$(elapsed "$t")
psql -c "DROP TABLE copy_baseline"
echo "baseline: $rows rows in $baseline_s s"

log "patron import"
t=$(date +%s.%N)
(cd "$(dirname "$PATRON_SERVER_DLL")" && ASPNETCORE_ENVIRONMENT=Production Patron__Jobs=false /usr/bin/time -v -o "$work/time.log" \
    dotnet "$PATRON_SERVER_DLL" import "$file" --program HYS-BJ --db "$conn") | tee "$work/import.log"
import_s=$(elapsed "$t")
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.log")

mismatches=$(psql -c "SELECT count(*) FROM member_accounts a
    LEFT JOIN (SELECT member_id, SUM(points) s FROM points_entries GROUP BY member_id) e ON e.member_id = a.member_id
    LEFT JOIN (SELECT member_id, SUM(remaining) r FROM points_lots GROUP BY member_id) l ON l.member_id = a.member_id
    WHERE a.balance <> COALESCE(e.s, 0) OR a.balance <> COALESCE(l.r, 0) - a.debt")
members=$(psql -c "SELECT count(*) FROM members")

log "result"
awk -v n="$rows" -v b="$baseline_s" -v i="$import_s" -v rss="$rss_kb" -v m="$members" -v x="$mismatches" 'BEGIN {
    printf "rows in file            %d\n", n
    printf "members in the database %d (including the demo chain)\n", m
    printf "baseline \\copy          %.1f s  %8.0f rows/s\n", b, n / b
    printf "patron import           %.1f s  %8.0f rows/s  (%.1f x the baseline time)\n", i, n / i, i / b
    printf "importer peak memory    %.0f MiB (maximum resident set size)\n", rss / 1024
    printf "ledger check            %d member(s) off\n", x
}' | tee "$out/result.txt"
