#!/bin/bash
# What import commands beside a running service do to its readers: a copy
# of var/bench/SCALE served with the response cache off, the load tool's
# mixed operations from two clients for 30 s with nothing else running,
# then 30 s while import commands of one council's set (one meeting
# retitled each time) run back to back. Loopback only.
#
#	make build && bash bench/besideimports.sh M
set -eu
scale=${1:-M}
bin=${BIN:-./councilgraph}
[ -x "$bin" ] || { echo "besideimports: no $bin: run make build" >&2; exit 1; }
[ -d "var/bench/$scale" ] || go run ./bench/dataset -scale "$scale"
tmp=$(mktemp -d)
serving=
trap 'kill $serving 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/load" ./bench/load
go run ./bench/gen/sets -scale "$scale" -council 0 -out "$tmp/sets" >/dev/null
set=$tmp/sets/c000
cp -r "var/bench/$scale" "$tmp/store" && rm -f "$tmp/store/ADDR"

"$bin" serve --data-dir "$tmp/store" --addr 127.0.0.1:18331 --debug-addr 127.0.0.1:18332 \
	--rate-limit -1 --rate-limit-address -1 --response-cache-size 0 >"$tmp/serve.log" 2>&1 &
serving=$!
for _ in $(seq 1 600); do
	curl -s http://127.0.0.1:18332/metrics 2>/dev/null | grep -q '^councilgraph_snapshot_records [1-9]' && break
	sleep 0.5
done
"$tmp/load" -addr 127.0.0.1:18331 -scale "$scale" -c 2 -d 30s -timeout 10s | sed -n '2p;$s/^ */quiet: /p'

(
	end=$((SECONDS + 31))
	n=0
	while [ $SECONDS -lt $end ]; do
		n=$((n + 1))
		sed -i "0,/^  title: /s//  title: Revised $n /" "$set/meetings.yaml"
		"$bin" import --data-dir "$tmp/store" "$set" >/dev/null 2>&1
	done
	echo "$n imports"
) >"$tmp/imports" &
importing=$!
"$tmp/load" -addr 127.0.0.1:18331 -scale "$scale" -c 2 -d 30s -timeout 10s | sed -n '$s/^ */beside imports: /p'
wait $importing
cat "$tmp/imports"
