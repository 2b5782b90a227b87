#!/bin/bash
# What a one-council import command costs against a store of the given
# scale (S, M or L): one meeting retitled with the store to itself, the
# same beside a running `serve` of the store, and a --prune of one meeting
# with every record naming it. Each on a copy of var/bench/SCALE, three
# times; the service listens on loopback only.
#
#	make build && bash bench/importcmd.sh M
set -eu
scale=${1:-M}
bin=${BIN:-./councilgraph}
[ -x "$bin" ] || { echo "importcmd: no $bin: run make build" >&2; exit 1; }
[ -d "var/bench/$scale" ] || go run ./bench/dataset -scale "$scale"
tmp=$(mktemp -d)
trap 'kill $serving 2>/dev/null || true; rm -rf "$tmp"' EXIT
serving=
go run ./bench/gen/sets -scale "$scale" -council 0 -out "$tmp/sets" >/dev/null
set=$tmp/sets/c000

# The pruned set: the first meeting gone, with every record naming it (its
# attendance, agenda items and their reports, by the path their IDs share).
key=$(sed -n 's/^- id: meeting:\(.*\)$/\1/p' "$set/meetings.yaml" | head -1)
cp -r "$set" "$tmp/pruned"
for f in "$tmp"/pruned/*.yaml; do
	[ "$(basename "$f")" = set.yaml ] && continue
	awk -v key="$key" '
		/^- id: / { if (index(rec, key) == 0) printf "%s", rec; rec = "" }
		{ rec = rec $0 "\n" }
		END { if (index(rec, key) == 0) printf "%s", rec }' "$f" >"$f.new"
	mv "$f.new" "$f"
done

store=$tmp/store
rm -rf "$store" && cp -r "var/bench/$scale" "$store" && rm -f "$store/ADDR"
# Once as generated, which also makes any index the store lacks.
"$bin" import --data-dir "$store" "$set" >/dev/null 2>&1

retitle() { sed -i "0,/^  title: /s//  title: Revised $1 /" "$set/meetings.yaml"; }
timed() {
	local what=$1
	shift
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; exit 1; }
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v w="$scale $what" 'BEGIN { printf "%s: %.2f s\n", w, b - a }'
}

for run in 1 2 3; do
	retitle "alone $run $$"
	timed "one meeting, the store to itself" "$bin" import --data-dir "$store" "$set"
done

"$bin" serve --data-dir "$store" --addr 127.0.0.1:18311 --debug-addr 127.0.0.1:18312 >"$tmp/serve.log" 2>&1 &
serving=$!
for _ in $(seq 1 600); do
	curl -sf -o /dev/null http://127.0.0.1:18311/readyz && break
	sleep 0.5
done
for run in 1 2 3; do
	retitle "beside $run $$"
	timed "one meeting, beside a running serve" "$bin" import --data-dir "$store" "$set"
done
kill $serving && wait $serving 2>/dev/null || true
serving=

for run in 1 2 3; do
	rm -rf "$tmp/pruning" && cp -r "$store" "$tmp/pruning"
	sync # the copy written out, not beside the import (2 GB at L)
	timed "--prune of one meeting and the $(($(cat "$set"/*.yaml | grep -c '^- id: ') - $(cat "$tmp"/pruned/*.yaml | grep -c '^- id: ') - 1)) records naming it" \
		"$bin" import --prune --data-dir "$tmp/pruning" "$tmp/pruned"
done
