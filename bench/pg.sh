#!/bin/sh
# bench/pg.sh start|stop|url: a private PostgreSQL 15 (Debian's package) for
# benchmarking FerretDB over PostgreSQL. Only for benchmarks, never part of
# the default run. It listens on 127.0.0.1:$PGPORT (default 5499) with its
# files in $PGDIR (default /tmp/councilgraph-bench-pg), trusting local
# connections, so keep it off shared networks.
#
#   sh bench/pg.sh start
#   BENCH_POSTGRESQL_URL=$(sh bench/pg.sh url) make bench
#   sh bench/pg.sh stop
set -eu
BIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DIR=${PGDIR:-/tmp/councilgraph-bench-pg}
PORT=${PGPORT:-5499}
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi; }
case "${1:-}" in
start)
	if [ ! -f "$DIR/PG_VERSION" ]; then
		mkdir -p "$DIR"
		[ "$(id -u)" = 0 ] && chown postgres "$DIR"
		as_pg "$BIN/initdb -D $DIR -U postgres --auth=trust >/dev/null"
	fi
	as_pg "$BIN/pg_ctl -D $DIR -l $DIR/log -w -o '-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c shared_buffers=256MB' start"
	as_pg "$BIN/psql -h 127.0.0.1 -p $PORT -U postgres -tAc \"select 1 from pg_database where datname='ferretdb'\" | grep -q 1 || $BIN/createdb -h 127.0.0.1 -p $PORT -U postgres ferretdb"
	;;
stop)
	as_pg "$BIN/pg_ctl -D $DIR -w stop"
	;;
url)
	echo "postgres://postgres@127.0.0.1:$PORT/ferretdb"
	;;
*)
	echo "usage: $0 start|stop|url" >&2
	exit 2
	;;
esac
