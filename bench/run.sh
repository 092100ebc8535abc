#!/usr/bin/env bash
# Runs the workloads of BENCHMARKS.md against a fresh server per run, on
# loopback, each bounded in time by the load tool. Results go to OUT as JSON
# (one file per run) plus the tool's table on stderr.
#   bench/run.sh OUT [W1 W1stalled W2 W3 W4 W5 idle100 idle500 idle1000 crowd]
# BENCH_PROFILE=1 also writes the server's CPU profile of each run to OUT.
# BENCH_PIN=1 pins the server to CPU 0 and the load tool to CPU 1.
# BENCH_SERVER_ARGS adds flags to the server of each run (e.g. "--fps 20").
# BENCH_FLOOR=1 follows each run with the same load on bench/floor (one
# x/crypto write per delivery and nothing else), as W.floor.N.json: the cost
# that no server on this stack avoids, measured in the same invocation.
# BENCH_SSHCHAT=PATH follows each run with the same load on the ssh-chat
# binary at PATH (built from its public source, outside this repository), as
# W.sshchat.N.json. ssh-chat takes any key and name; its message of the day
# carries the load tool's ready marker, and --no-self tells the tool that
# ssh-chat shows a sender's own line as "[name] text", like its input line.
# BENCH_BASELINE=PATH follows each run with the same load on another
# securechat binary at PATH (an older commit, or this one without
# BENCH_SERVER_ARGS), on the same data folder with the same base flags but
# none of BENCH_SERVER_ARGS, as W.baseline.N.json: an A/B in one invocation.
# A vmstat log of the whole invocation goes to OUT/vmstat.log.
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
sshchat=${BENCH_SSHCHAT:-}
if [ -n "$sshchat" ]; then
	[ -x "$sshchat" ] || { echo "BENCH_SSHCHAT=$sshchat: not an executable" >&2; exit 2; }
	ssh-keygen -q -t ed25519 -N '' -f "$bin/sshchat_host_key"
	printf '[ Send ]\n' >"$bin/sshchat_motd"
fi
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
stop() {
	kill -TERM "$spid"
	wait "$spid" || true
	spid=
}

# other TAG COMMAND...: the same load on another server, started by
# COMMAND, into $w.TAG.$n.json.
other() {
	local tag=$1
	shift
	"${pin_server[@]}" "$@" 2>>"$out/server.log" >>"$out/server.log" &
	spid=$!
	wait_listening
	echo "== $w on $tag" >&2
	$pin_load "$bin/securechat-load" --addr "$addr" --server-pid "$spid" "${args[@]}" "${other_args[@]}" --json >"$out/$w.$tag.$n.json" || echo "$w on $tag exited $?" >&2
	stop
}

vmstat 10 >"$out/vmstat.log" &
vmpid=$!
spid=
trap 'kill "$vmpid" $spid 2>/dev/null; rm -rf "$bin"' EXIT

# Users once: registration limits relaxed for this step only. A user whose
# registration failed (on a busy machine a bcrypt slot can time out) is
# retried once; the users already set up are skipped.
server --limit-registrations-per-source 100000 --limit-registrations-total 100000
for attempt in 1 2; do
	if "$bin/securechat-load" --addr "$addr" --setup --sessions 1100 --duration 0 --login-bench 2000 --setup-timeout 10m --json >"$out/setup.$attempt.json"; then
		break
	fi
	echo "setup attempt $attempt exited $?" >&2
done
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
	# W1's room while 1,000 more users connect at once (as after a restart).
	crowd) args=(--sessions 100 --senders 20 --rate 0.5 --warmup 5s --duration 20s --crowd 1000 --connect-timeout 60s) ;;
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
	other_args=()
	[ -z "${BENCH_BASELINE:-}" ] || other "baseline" "$BENCH_BASELINE" --data "$data" --listen "$addr" --bcrypt-cost 10 --log-level warn
	[ -z "${BENCH_FLOOR:-}" ] || other "floor" "$bin/floor" --listen "$addr"
	other_args=(--no-self)
	[ -z "$sshchat" ] || other "sshchat" "$sshchat" --bind "$addr" -i "$bin/sshchat_host_key" --motd "$bin/sshchat_motd"
done
