#!/bin/sh
# stress-tests.sh runs the Go tests N times in a row (default 20) at
# GOMAXPROCS=1 beside CPU-bound neighbours (NEIGHBOURS, default one per
# core), and stops at the first failure, saying which run it was. A test that passes here does not
# depend on how fast the machine is or on background work finishing in
# time.
#
#   scripts/stress-tests.sh                      # the whole suite, 20 times
#   N=5 scripts/stress-tests.sh ./httpapi        # one package, 5 times
#   N=1 scripts/stress-tests.sh -count=20 -run 'TestTraces' ./telemetry
#   NEIGHBOURS=1 scripts/stress-tests.sh -p 2 ./...   # two packages at a time
#
# Arguments go to `go test` (default ./...); -count=1 and -timeout=1h are
# added unless given. The neighbours are this script's own children and are
# stopped when it exits, however it exits.
set -u

N=${N:-20}
GO=${GO:-go}
NEIGHBOURS=${NEIGHBOURS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}

[ $# -gt 0 ] || set -- ./...
case " $* " in
*" -count"*) ;;
*) set -- -count=1 "$@" ;;
esac
# A starved package may run past go test's default 10-minute guard against
# hangs without hanging: the guard here is an hour.
case " $* " in
*" -timeout"*) ;;
*) set -- -timeout=1h "$@" ;;
esac

pids=
stop_neighbours() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null
	done
	pids=
}
trap stop_neighbours EXIT
trap 'exit 130' INT TERM

i=0
while [ "$i" -lt "$NEIGHBOURS" ]; do
	yes >/dev/null &
	pids="$pids $!"
	i=$((i + 1))
done
echo "stress: $NEIGHBOURS CPU-bound neighbour(s) running (pids$pids); GOMAXPROCS=1; $N run(s) of: $GO test $*"

run=1
start=$(date +%s)
while [ "$run" -le "$N" ]; do
	t0=$(date +%s)
	if ! GOMAXPROCS=1 "$GO" test "$@"; then
		echo "stress: FAILED on run $run of $N ($((run - 1)) passed before it)"
		exit 1
	fi
	echo "stress: run $run of $N passed in $(($(date +%s) - t0))s"
	run=$((run + 1))
done
echo "stress: all $N runs passed in $(($(date +%s) - start))s"
