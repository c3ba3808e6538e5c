#!/usr/bin/env bash
# A private PostgreSQL server for the portability tests and the bench (no Docker).
#
#   scripts/postgres_server.sh install         # idempotent: Debian's postgresql if missing
#   scripts/postgres_server.sh check           # exit 0 if the server binaries are found
#   scripts/postgres_server.sh start DIR PORT  # initdb in DIR (once), start on 127.0.0.1:PORT
#   scripts/postgres_server.sh stop DIR
#
# The server runs as a non-root user (PostgreSQL refuses root): the caller when it is not
# root, else the OS user `postgres` that Debian's package creates. It listens on 127.0.0.1
# only, with its socket inside DIR, and takes the password in $PGPASSWORD (default `rlhfw`)
# for its superuser `rlhfw` (scram-sha-256, never written to a file here). Tests use
# tests/postgres.py, which calls `start` and `stop`.
set -euo pipefail

log() { printf '[postgres_server] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

bindir() {
    local found
    found="$(command -v pg_ctl 2>/dev/null || true)"
    if [[ -n "$found" ]]; then dirname "$(readlink -f "$found")"; return; fi
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
    [[ -n "$found" && -x "$found/pg_ctl" ]] && echo "$found"
}

as_server_user() {
    if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
install)
    if [[ -n "$(bindir)" ]]; then log "PostgreSQL found: $(bindir)"; exit 0; fi
    [[ "$(id -u)" == 0 ]] || die "PostgreSQL not found; install it (apt-get install postgresql)"
    log "installing Debian's postgresql"
    apt-get update -q && apt-get install -y -q --no-install-recommends postgresql >/dev/null
    [[ -n "$(bindir)" ]] || die "apt-get installed postgresql but pg_ctl is not found"
    ;;
check)
    [[ -n "$(bindir)" ]] || die "PostgreSQL not found: run \`make postgres\` (Debian's postgresql)"
    ;;
start)
    dir="${2:?usage: start DIR PORT}"; port="${3:?usage: start DIR PORT}"
    bin="$(bindir)"; [[ -n "$bin" ]] || die "PostgreSQL not found: run \`make postgres\`"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [[ "$(id -u)" == 0 ]]; then chown postgres "$dir"; chmod 700 "$dir"; fi
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        pwfile="$(mktemp)"
        printf '%s\n' "${PGPASSWORD:-rlhfw}" >"$pwfile"
        [[ "$(id -u)" == 0 ]] && chown postgres "$pwfile"
        as_server_user "$bin/initdb" -D "$dir/data" -U rlhfw --pwfile="$pwfile" \
            --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null \
            || { rm -f "$pwfile"; die "initdb failed in $dir/data"; }
        rm -f "$pwfile"
    fi
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" >/dev/null \
        || die "the server did not start; see $dir/server.log"
    log "PostgreSQL on 127.0.0.1:$port (data in $dir/data)"
    ;;
stop)
    dir="${2:?usage: stop DIR}"
    bin="$(bindir)"; [[ -n "$bin" ]] || exit 0
    [[ -f "$dir/data/postmaster.pid" ]] || exit 0
    as_server_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
*)
    die "usage: $0 install | check | start DIR PORT | stop DIR"
    ;;
esac
