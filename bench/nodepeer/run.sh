#!/bin/sh
# bench/nodepeer/run.sh [postgresql] [embedded]: councilgraph against the
# Node peer (Apollo Server 5 + DataLoader 2, server.mjs) on the same
# database, for each operation (a)-(c) of bench/ops.go. For each backend
# named (default: postgresql, then embedded) it
#
#   1. makes the benchmark set (bench/dataset): over PostgreSQL, a private
#      PostgreSQL 15 (bench/pg.sh) and FerretDB 1.24 over it on loopback,
#      which both servers connect to; embedded, `councilgraph serve
#      --data-dir var/bench/$SCALE` (its default store, FerretDB on SQLite
#      in its own process), whose socket the peer connects to;
#   2. starts councilgraph (response cache off, rate limit off; its
#      snapshot on, as a server of this data set runs by default, and
#      waits until the snapshot answers, or off with SNAPSHOT=off, when
#      every request is answered from the database, as the peer's are) and
#      the peer on the same database;
#   3. checks that both answer every operation alike (bench/compare) and
#      stops, failing, if they do not;
#   4. drives each operation alone on each server with bench/load, at the
#      same concurrency for the same time, and prints requests/s, p50 and
#      p99 for each and the throughput ratio (councilgraph / peer), then
#      the CPU time each request cost in each process (the server, FerretDB,
#      PostgreSQL), read from /proc before and after each run.
#
# Settings (environment): SCALE (S), CLIENTS (8), DURATION (30s), SNAPSHOT
# (on, or off: councilgraph's --snapshot-size 0), OPS
# ("a- b- c-"), PEER_SHAPE (in: the peer's finds use $in, as Node code
# does; equality: one find per key, councilgraph's shape over PostgreSQL),
# CG_PORT (18081), PEER_PORT (18082), FERRET_PORT (27199),
# DEBUG_PORT (16061), PROFILE (seconds: take a CPU profile of
# councilgraph from its debug listener during each of its runs, into
# $OUT/cg-BACKEND-OP.pprof, for `go tool pprof`), OUT (where logs and the table go; default a new
# directory under /tmp). Run from anywhere in the repository; needs go,
# node and npm, and for postgresql Debian's postgresql-15 (see bench/pg.sh).
set -eu
cd "$(dirname "$0")/../.."
SCALE=${SCALE:-S}
CLIENTS=${CLIENTS:-8}
DURATION=${DURATION:-30s}
OPS=${OPS:-a- b- c-}
CG_PORT=${CG_PORT:-18081}
PEER_PORT=${PEER_PORT:-18082}
FERRET_PORT=${FERRET_PORT:-27199}
DEBUG_PORT=${DEBUG_PORT:-16061}
OUT=${OUT:-$(mktemp -d /tmp/nodepeer.XXXXXX)}
mkdir -p "$OUT"
BACKENDS=${*:-postgresql embedded}
# Every client of bench/load has the same address: no rate limits, and one
# caller may run as many operations at once as there are clients. The
# store's own admission limit (--max-in-flight) keeps its default.
CG_FLAGS="--rate-limit -1 --rate-limit-address -1 --max-in-flight-per-caller $CLIENTS"
SNAPSHOT=${SNAPSHOT:-on}
case "$SNAPSHOT" in
on) ;;
off) CG_FLAGS="$CG_FLAGS --snapshot-size 0" ;;
*) echo "run.sh: SNAPSHOT is $SNAPSHOT: want on or off" >&2; exit 2 ;;
esac

PIDS=""
PG_STARTED=""
stop_all() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	PIDS=""
}
cleanup() {
	stop_all
	if [ -n "$PG_STARTED" ]; then sh bench/pg.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }

# ticks PID...: the CPU time (user + system, in clock ticks) the processes
# have used so far.
ticks() {
	t=0
	for p in "$@"; do
		if [ -r "/proc/$p/stat" ]; then t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); fi
	done
	echo "$t"
}
HZ=$(getconf CLK_TCK)
# pg_pids: the private PostgreSQL's postmaster and its children (backends
# that ended during a run are not counted: FerretDB keeps its connections).
pg_pids() {
	if [ "$backend" = postgresql ] && [ -r "${PGDIR:-/tmp/councilgraph-bench-pg}/postmaster.pid" ]; then
		pm=$(head -1 "${PGDIR:-/tmp/councilgraph-bench-pg}/postmaster.pid")
		echo "$pm" $(ps -o pid= --ppid "$pm")
	fi
}

# drive WHO ADDR PID FERRET OP: run bench/load on one server for one
# operation into $OUT/load-$backend-$OP-WHO.txt, and append the CPU time a
# request cost in the server (PID), in FerretDB (FERRET, when another
# process) and in PostgreSQL to $CPU.
drive() {
	s0=$(ticks "$3"); f0=$(ticks $4); p0=$(ticks $(pg_pids))
	prof=""
	if [ -n "${PROFILE:-}" ] && [ "$1" = cg ]; then
		curl -fsS -o "$OUT/cg-$backend-$5.pprof" "http://127.0.0.1:$DEBUG_PORT/debug/pprof/profile?seconds=$PROFILE" &
		prof=$!
	fi
	"$OUT/load" -addr "$2" -scale "$SCALE" -c "$CLIENTS" -d "$DURATION" -ops "$5" -pid "$3" >"$OUT/load-$backend-$5-$1.txt"
	s1=$(ticks "$3"); f1=$(ticks $4); p1=$(ticks $(pg_pids))
	if [ -n "$prof" ]; then wait "$prof" || say "run.sh: the profile of $backend $5 failed"; fi
	n=$(awk -v op="$5" '$1 ~ "^"op { print $2; exit }' "$OUT/load-$backend-$5-$1.txt")
	awk -v b="$backend" -v op="$5" -v who="$1" -v n="$n" -v hz="$HZ" -v s="$((s1 - s0))" -v f="$((f1 - f0))" -v p="$((p1 - p0))" -v own="$4" '
		function ms(t) { return sprintf("%.1f", t * 1000 / hz / n) }
		BEGIN { if (n == 0) n = 1
			printf "| %s | %s | %s | %s | %s | %s | %s |\n", b, op, who, ms(s), (own == "" ? "(in the server)" : ms(f)), (b == "postgresql" ? ms(p) : "–"), ms(s + f + p) }' >>"$CPU"
}

# await_http ADDR: wait until a GraphQL endpoint answers (60 s at most).
await_http() {
	i=0
	until curl -fsS -o /dev/null -H 'Content-Type: application/json' \
		--data '{"query":"{ __typename }"}' "http://$1/graphql" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 300 ]; then say "run.sh: nothing answers at $1 (logs in $OUT)"; exit 1; fi
		sleep 0.2
	done
}

# await_snapshot DEBUG_ADDR: wait until councilgraph's snapshot of the
# current data generation answers reads (its /metrics say so).
await_snapshot() {
	i=0
	until curl -fsS "http://$1/metrics" 2>/dev/null | awk '
		/^councilgraph_records_generation / { g = $2 } /^councilgraph_snapshot_generation / { s = $2 }
		/^councilgraph_snapshot_records / { r = $2 } END { exit !(r > 0 && s == g) }'; do
		i=$((i + 1))
		if [ "$i" -gt 600 ]; then say "run.sh: councilgraph's snapshot was not ready within 2 minutes (logs in $OUT)"; exit 1; fi
		sleep 0.2
	done
}

say "run.sh: building into $OUT"
go build -o "$OUT/councilgraph" .
go build -o "$OUT/dataset" ./bench/dataset
go build -o "$OUT/compare" ./bench/compare
go build -o "$OUT/load" ./bench/load
(cd bench/nodepeer && npm ci --no-audit --no-fund --loglevel=error)

TABLE="$OUT/table.md"
{
	echo "scale $SCALE, $CLIENTS clients, $DURATION per operation and server, peer shape ${PEER_SHAPE:-in}, councilgraph's snapshot $SNAPSHOT, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD)"
	echo
	echo "| backend | operation | councilgraph req/s | p50 | p99 | errors | peer req/s | p50 | p99 | errors | throughput ratio | load average before |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
} >"$TABLE"

CPU="$OUT/cpu.md"
{
	echo
	echo "CPU time per request (ms), all processes of one run"
	echo
	echo "| backend | operation | server | server process | FerretDB | PostgreSQL | total |"
	echo "|---|---|---|---:|---:|---:|---:|"
} >"$CPU"

# row LOG OP: "req/s | p50 | p99 | errors" of OP in a bench/load output.
row() { awk -v op="$2" '$1 ~ "^"op { printf "%s | %s ms | %s ms | %s", $4, $5, $7, $3; exit }' "$1"; }
rate() { awk -v op="$2" '$1 ~ "^"op { print $4; exit }' "$1"; }

for backend in $BACKENDS; do
	case $backend in
	postgresql)
		if ! sh bench/pg.sh url >/dev/null || ! /usr/lib/postgresql/15/bin/pg_isready -q -h 127.0.0.1 -p "${PGPORT:-5499}"; then
			sh bench/pg.sh start >"$OUT/pg.log" 2>&1
			PG_STARTED=1
		fi
		"$OUT/dataset" -scale "$SCALE" -postgresql-url "$(sh bench/pg.sh url)" -addr "127.0.0.1:$FERRET_PORT" \
			>"$OUT/ferret.uri" 2>"$OUT/ferret.log" &
		FERRET=$!
		PIDS="$PIDS $FERRET"
		i=0
		until [ -s "$OUT/ferret.uri" ]; do
			i=$((i + 1))
			if [ "$i" -gt 3000 ] || ! kill -0 "$!" 2>/dev/null; then say "run.sh: FerretDB over PostgreSQL did not start:"; cat "$OUT/ferret.log" >&2; exit 1; fi
			sleep 0.2
		done
		URI=$(cat "$OUT/ferret.uri")
		CG_FERRET=$FERRET
		"$OUT/councilgraph" serve --mongodb-uri "$URI" --addr "127.0.0.1:$CG_PORT" $CG_FLAGS \
			--response-cache-size 0 --debug-addr "127.0.0.1:$DEBUG_PORT" >"$OUT/cg-$backend.log" 2>&1 &
		CG=$!
		;;
	embedded)
		"$OUT/dataset" -scale "$SCALE" 2>"$OUT/dataset.log"
		rm -f "var/bench/$SCALE/ADDR"
		"$OUT/councilgraph" serve --data-dir "var/bench/$SCALE" --addr "127.0.0.1:$CG_PORT" $CG_FLAGS \
			--response-cache-size 0 --debug-addr "127.0.0.1:$DEBUG_PORT" >"$OUT/cg-$backend.log" 2>&1 &
		CG=$!
		FERRET=$CG
		CG_FERRET=""
		i=0
		until [ -s "var/bench/$SCALE/ADDR" ]; do
			i=$((i + 1))
			if [ "$i" -gt 300 ]; then say "run.sh: the embedded store did not start:"; cat "$OUT/cg-$backend.log" >&2; exit 1; fi
			sleep 0.2
		done
		URI=$(cat "var/bench/$SCALE/ADDR")
		;;
	*)
		say "run.sh: unknown backend $backend: want postgresql or embedded"
		exit 2
		;;
	esac
	PIDS="$CG $PIDS"
	MONGODB_URI="$URI" ADDR="127.0.0.1:$PEER_PORT" NODE_ENV=production node bench/nodepeer/server.mjs >"$OUT/peer-$backend.log" 2>&1 &
	PEER=$!
	PIDS="$PEER $PIDS"
	await_http "127.0.0.1:$CG_PORT"
	await_http "127.0.0.1:$PEER_PORT"
	if [ "$SNAPSHOT" = on ]; then
		await_snapshot "127.0.0.1:$DEBUG_PORT"
	fi

	say "run.sh: $backend: checking that both answer alike"
	"$OUT/compare" -a "127.0.0.1:$CG_PORT" -b "127.0.0.1:$PEER_PORT" -scale "$SCALE" -ops "$(echo $OPS | tr ' ' ,)" >&2

	for op in $OPS; do
		load=$(uptime | sed 's/.*load average: //')
		say "run.sh: $backend $op: councilgraph"
		drive cg "127.0.0.1:$CG_PORT" "$CG" "$CG_FERRET" "$op"
		say "run.sh: $backend $op: peer"
		drive peer "127.0.0.1:$PEER_PORT" "$PEER" "$FERRET" "$op"
		cg=$(rate "$OUT/load-$backend-$op-cg.txt" "$op")
		peer=$(rate "$OUT/load-$backend-$op-peer.txt" "$op")
		errs=$(awk -v op="$op" '$1 ~ "^"op { n += $3 } END { print n + 0 }' "$OUT/load-$backend-$op-cg.txt" "$OUT/load-$backend-$op-peer.txt")
		ratio=$(awk -v a="$cg" -v b="$peer" -v e="$errs" 'BEGIN { if (e > 0) print "none: errors"; else if (b > 0) printf "%.2f×", a / b; else print "–" }')
		name=$(awk -v op="$op" '$1 ~ "^"op { print $1; exit }' "$OUT/load-$backend-$op-cg.txt")
		echo "| $backend | $name | $(row "$OUT/load-$backend-$op-cg.txt" "$op") | $(row "$OUT/load-$backend-$op-peer.txt" "$op") | $ratio | $load |" >>"$TABLE"
	done
	stop_all
done
cat "$TABLE" "$CPU"
say "run.sh: logs and bench/load outputs in $OUT"
