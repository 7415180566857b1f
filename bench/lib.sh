# bench/lib.sh — shell helpers shared by bench/run.sh and bench/import.sh (sourced, not run).

log() { printf '\n[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    echo "no free port found" >&2
    return 1
}

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
pg_user=postgres
id "$pg_user" >/dev/null 2>&1 || { echo "the '$pg_user' system user is missing (it comes with Debian's postgresql package)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }

# start_cluster DIR DB: a throwaway cluster in DIR/pg on a free loopback port with database DB;
# sets pg_port and conn.
start_cluster() {
    local dir=$1 db=$2
    chmod 755 "$dir"
    chown "$pg_user" "$dir" 2>/dev/null || true
    pg_port=$(free_port)
    as_pg "$pgbin/initdb" -D "$dir/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log"; exit 1; }
    as_pg "$pgbin/pg_ctl" -D "$dir/pg" -l "$dir/postgres.log" -w start \
        -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c shared_buffers=256MB -c max_connections=200" >/dev/null
    "$pgbin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$db"
    conn="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$db"
}

stop_cluster() {
    local dir=$1
    if [ -f "$dir/pg/postmaster.pid" ]; then
        as_pg "$pgbin/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null 2>&1 || true
    fi
}

# build_patron_and_bench: builds Patron (Release, unless PATRON_SERVER_DLL names one) and
# Patron.Bench, logging to $out; sets PATRON_SERVER_DLL and bench_dll. Needs $root, $here, $out.
build_patron_and_bench() {
    log "building Patron (Release) and Patron.Bench"
    if [ -z "${PATRON_SERVER_DLL:-}" ]; then
        dotnet build "$root/src/Patron.Server/Patron.Server.csproj" -c Release -v q -nologo >"$out/build-server.log" 2>&1 \
            || { tail -30 "$out/build-server.log"; exit 1; }
        PATRON_SERVER_DLL="$root/src/Patron.Server/bin/Release/net10.0/Patron.Server.dll"
    fi
    PATRON_SERVER_DLL=$(realpath "$PATRON_SERVER_DLL")
    [ -f "$PATRON_SERVER_DLL" ] || { echo "no $PATRON_SERVER_DLL" >&2; exit 1; }
    dotnet build "$here/Patron.Bench/Patron.Bench.csproj" -c Release -v q -nologo >"$out/build-bench.log" 2>&1 \
        || { tail -30 "$out/build-bench.log"; exit 1; }
    bench_dll="$here/Patron.Bench/bin/Release/net10.0/Patron.Bench.dll"
}

# start_patron_server CONN WORKDIR: starts $PATRON_SERVER_DLL from its own folder (the content root
# is the working directory: without the build's appsettings.json the server logs every request and
# SQL command at Information) with background jobs off, on a free port, logging to WORKDIR/server.log;
# sets http_port and server_pid and waits until /health answers (exits if it never does).
start_patron_server() {
    local conn=$1 dir=$2
    http_port=$(free_port)
    log "starting Patron on http://127.0.0.1:$http_port${BENCH_DB_OPTIONS:+ (connection string + $BENCH_DB_OPTIONS)}"
    pushd "$(dirname "$PATRON_SERVER_DLL")" >/dev/null
    Patron__Jobs=false ASPNETCORE_ENVIRONMENT=Production dotnet "$PATRON_SERVER_DLL" serve --db "$conn${BENCH_DB_OPTIONS:-}" --urls "http://127.0.0.1:$http_port" >"$dir/server.log" 2>&1 &
    server_pid=$!
    popd >/dev/null
    for _ in $(seq 1 120); do
        curl -fs "http://127.0.0.1:$http_port/health" >/dev/null 2>&1 && return 0
        kill -0 "$server_pid" 2>/dev/null || { echo "the server exited"; tail -30 "$dir/server.log"; exit 1; }
        sleep 0.5
    done
    echo "the server did not become healthy"; tail -30 "$dir/server.log"; exit 1
}
