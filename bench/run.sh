#!/usr/bin/env bash
# Runs the workloads of BENCHMARKS.md against a fresh server per run, on
# loopback, each bounded in time by the load tool. Results go to OUT as JSON
# (one file per run) plus the tool's table on stderr.
#   bench/run.sh OUT [W1 W1stalled W2 W3 W4 W5 idle100 idle500 idle1000]
# BENCH_PROFILE=1 also writes the server's CPU profile of each run to OUT.
# BENCH_PIN=1 pins the server to CPU 0 and the load tool to CPU 1.
# BENCH_SERVER_ARGS adds flags to the server of each run (e.g. "--fps 20").
# BENCH_FLOOR=1 follows each run with the same load on bench/floor (one
# x/crypto write per delivery and nothing else), as W.floor.N.json: the cost
# that no server on this stack avoids, measured in the same invocation.
set -euo pipefail
out=${1:?usage: bench/run.sh OUT [workloads...]}
shift
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(W1 W2 W3 W4 W5 idle100 idle500 idle1000)
cd "$(dirname "$0")/.."
mkdir -p "$out"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/securechat" ./cmd/securechat
go build -o "$bin/securechat-load" ./cmd/securechat-load
go build -o "$bin/floor" ./bench/floor
data=${BENCH_DATA:-/tmp/securechat-bench-data}
port=${BENCH_PORT:-22022}
addr=127.0.0.1:$port

pin_server=() pin_load=
if [ -n "${BENCH_PIN:-}" ]; then
	pin_server=(taskset -c 0) pin_load="taskset -c 1"
fi

server() {
	# The load comes from 253 addresses at most: lift the new-connection rate.
	"${pin_server[@]}" "$bin/securechat" --data "$data" --listen "$addr" --bcrypt-cost 10 --log-level warn \
		--limit-conn-burst 100000 --limit-conn-rate 100000 "$@" 2>>"$out/server.log" &
	spid=$!
	wait_listening
}
wait_listening() {
	for _ in $(seq 100); do
		if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then return; fi
		sleep 0.1
	done
	echo "server did not start" >&2
	exit 1
}
stop() { kill -TERM "$spid"; wait "$spid" || true; }

# Users once: registration limits relaxed for this step only.
server --limit-registrations-per-source 100000 --limit-registrations-total 100000
"$bin/securechat-load" --addr "$addr" --setup --sessions 1000 --duration 0 --login-bench 2000 --setup-timeout 10m --json >"$out/setup.json"
stop

for w in "${runs[@]}"; do
	case $w in
	W1) args=(--sessions 100 --senders 20 --rate 0.5) ;;
	W1stalled) args=(--sessions 100 --senders 20 --rate 0.5 --stalled 10) ;;
	W2) args=(--sessions 500 --senders 20 --rate 0.5) ;;
	W3) args=(--sessions 1000 --senders 40 --rate 0.5 --connect-timeout 180s) ;;
	W4) args=(--sessions 1000 --senders 100 --rate 0.5 --connect-timeout 180s) ;;
	W5) args=(--sessions 1000 --senders 200 --rate 0.5 --connect-timeout 180s) ;;
	idle100) args=(--sessions 100 --senders 0 --warmup 0s --duration 10s) ;;
	idle500) args=(--sessions 500 --senders 0 --warmup 0s --duration 10s --connect-timeout 180s) ;;
	idle1000) args=(--sessions 1000 --senders 0 --warmup 0s --duration 10s --connect-timeout 180s) ;;
	*) echo "unknown workload $w" >&2; exit 2 ;;
	esac
	n=1
	while [ -e "$out/$w.$n.json" ]; do n=$((n + 1)); done
	extra=()
	[ -z "${BENCH_PROFILE:-}" ] || extra=(--cpuprofile "$out/$w.$n.pprof")
	# shellcheck disable=SC2206 # split on purpose: several flags
	extra+=(${BENCH_SERVER_ARGS:-})
	server "${extra[@]}"
	echo "== $w" >&2
	$pin_load "$bin/securechat-load" --addr "$addr" --server-pid "$spid" "${args[@]}" --json >"$out/$w.$n.json" || echo "$w exited $?" >&2
	stop
	if [ -n "${BENCH_FLOOR:-}" ]; then
		"${pin_server[@]}" "$bin/floor" --listen "$addr" 2>>"$out/server.log" &
		spid=$!
		wait_listening
		echo "== $w on bench/floor" >&2
		$pin_load "$bin/securechat-load" --addr "$addr" --server-pid "$spid" "${args[@]}" --json >"$out/$w.floor.$n.json" || echo "$w on floor exited $?" >&2
		stop
	fi
done
