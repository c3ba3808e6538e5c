#!/usr/bin/env bash
# Local argilla-server 2.8.0 for integration tests (no Docker, no Elasticsearch).
#
#   scripts/argilla_server.sh install          # idempotent: server venv + redis-server
#   scripts/argilla_server.sh check            # exit 0 if installed, else say what is missing
#   scripts/argilla_server.sh start DIR PORT   # background server, state in DIR (manual use)
#   scripts/argilla_server.sh stop DIR
#
# The server lives in its own venv (.venv-argilla-server) because its pins (pydantic 2.9,
# typer<0.10, ...) conflict with the project's dbt. It uses SQLite, a private redis-server
# and the in-memory search engine in tests/argilla_server/inmemory_engine.py.
# Tests use tests/argilla_server/fixture.py (ArgillaServer), not `start`.
#
# Env: PYTHON (default python3.11), ARGILLA_SERVER_VENV (default <repo>/.venv-argilla-server),
#      ARGILLA_OWNER_API_KEY / ARGILLA_OWNER_PASSWORD for `start`, REDIS_PORT (default PORT+1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ARGILLA_SERVER_VENV:-$ROOT/.venv-argilla-server}"
PY="${PYTHON:-python3.11}"
ARGILLA_SERVER_VERSION="2.8.0"
# argilla-server 2.8.0 pins typer<0.10, which is not compatible with click>=8.2.
REQUIREMENTS=("argilla-server==${ARGILLA_SERVER_VERSION}" "click<8.2")
MARKER="$VENV/.argilla-server-requirements"

log() { printf '[argilla_server] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

venv_ok() {
    [[ -x "$VENV/bin/python" ]] || return 1
    [[ -f "$MARKER" && "$(cat "$MARKER")" == "${REQUIREMENTS[*]}" ]] || return 1
    "$VENV/bin/python" - "$ARGILLA_SERVER_VERSION" <<'PY' >/dev/null 2>&1
import importlib.metadata as md
import sys

sys.exit(md.version("argilla-server") != sys.argv[1])
PY
}

redis_bin() {
    if [[ -n "${ARGILLA_TEST_REDIS_SERVER:-}" ]]; then echo "$ARGILLA_TEST_REDIS_SERVER"; return; fi
    command -v redis-server 2>/dev/null || { [[ -x /usr/bin/redis-server ]] && echo /usr/bin/redis-server; }
}

install_venv() {
    if venv_ok; then
        log "server venv OK: $VENV (argilla-server $ARGILLA_SERVER_VERSION)"
        return
    fi
    command -v "$PY" >/dev/null || die "$PY not found (set PYTHON=/path/to/python3.11)"
    if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
        log "creating venv $VENV with $PY"
        rm -rf "$VENV"
        "$PY" -m venv "$VENV"
    fi
    rm -f "$MARKER"
    log "installing ${REQUIREMENTS[*]} into $VENV (takes ~1-2 min)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q "${REQUIREMENTS[@]}"
    printf '%s' "${REQUIREMENTS[*]}" >"$MARKER"
    venv_ok || die "argilla-server $ARGILLA_SERVER_VERSION still not importable from $VENV"
    log "server venv ready"
}

install_redis() {
    local bin
    bin="$(redis_bin || true)"
    if [[ -n "$bin" ]]; then
        log "redis-server OK: $bin"
        return
    fi
    # The PyPI `redis-server` package has no wheel for Python 3.11 here: use Debian's package.
    command -v apt-get >/dev/null || die "redis-server missing and apt-get unavailable; install redis 7"
    [[ "$(id -u)" == 0 ]] || die "redis-server missing; run as root or: sudo apt-get install redis-server"
    log "installing redis-server with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
    bin="$(redis_bin || true)"
    [[ -n "$bin" ]] || die "apt-get installed redis-server but it is not on PATH"
    log "redis-server installed: $bin"
}

cmd_install() {
    install_redis
    install_venv
    log "done: tests can start the server (tests/argilla_server/fixture.py)"
}

cmd_check() {
    venv_ok || die "server venv missing or stale at $VENV: run scripts/argilla_server.sh install"
    [[ -n "$(redis_bin || true)" ]] || die "redis-server not found: run scripts/argilla_server.sh install"
    log "installed: $VENV, $(redis_bin)"
}

wait_http() { # url api_key timeout_s
    "$VENV/bin/python" - "$@" <<'PY'
import sys
import time
import urllib.request

url, key, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        req = urllib.request.Request(url, headers={"X-Argilla-Api-Key": key})
        with urllib.request.urlopen(req, timeout=5) as resp:
            if resp.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.5)
sys.exit(1)
PY
}

cmd_start() {
    local dir="${1:?usage: start DIR PORT}" port="${2:?usage: start DIR PORT}"
    local redis_port="${REDIS_PORT:-$((port + 1))}"
    local api_key="${ARGILLA_OWNER_API_KEY:-owner.apikey.local}"
    local password="${ARGILLA_OWNER_PASSWORD:-owner-password-1}"
    cmd_check
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [[ -f "$dir/server.pid" ]] && kill -0 "$(cat "$dir/server.pid")" 2>/dev/null &&
        die "already running (pid $(cat "$dir/server.pid")); use: $0 stop $dir"

    export ARGILLA_HOME_PATH="$dir/home"
    export ARGILLA_DATABASE_URL="sqlite+aiosqlite:///$dir/argilla.db"
    export ARGILLA_REDIS_URL="redis://127.0.0.1:$redis_port/0"
    export ARGILLA_SEARCH_ENGINE=inmemory
    export HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
    unset VIRTUAL_ENV PYTHONPATH

    log "redis on 127.0.0.1:$redis_port"
    nohup "$(redis_bin)" --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$dir" --daemonize no >"$dir/redis.log" 2>&1 &
    echo $! >"$dir/redis.pid"

    log "migrating $dir/argilla.db"
    "$VENV/bin/python" -m argilla_server database migrate >"$dir/migrate.log" 2>&1 ||
        { tail -20 "$dir/migrate.log" >&2; die "migration failed"; }
    "$VENV/bin/python" -m argilla_server database users create --first-name owner \
        --username owner --password "$password" --api-key "$api_key" --role owner \
        >"$dir/create-owner.log" 2>&1 || { tail -20 "$dir/create-owner.log" >&2; die "user create failed"; }

    log "argilla-server on http://127.0.0.1:$port"
    nohup "$VENV/bin/python" "$ROOT/tests/argilla_server/launch.py" --host 127.0.0.1 \
        --port "$port" >"$dir/server.log" 2>&1 &
    echo $! >"$dir/server.pid"
    if ! wait_http "http://127.0.0.1:$port/api/v1/me" "$api_key" 120; then
        tail -40 "$dir/server.log" >&2
        cmd_stop "$dir"
        die "server did not become ready in 120 s"
    fi
    log "ready: url=http://127.0.0.1:$port user=owner password=$password api_key=$api_key"
}

cmd_stop() {
    local dir="${1:?usage: stop DIR}" name pid
    for name in server redis; do
        [[ -f "$dir/$name.pid" ]] || continue
        pid="$(cat "$dir/$name.pid")"
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
            log "stopped $name (pid $pid)"
        fi
        rm -f "$dir/$name.pid"
    done
}

case "${1:-}" in
    install) cmd_install ;;
    check) cmd_check ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
