# councilgraph: the everyday commands. `make run` serves the Stockton data on
# the embedded store; `make test` runs every test.

GO ?= go

.PHONY: run test generate check build explorer-assets test-stress

# run builds councilgraph and serves the Stockton data on the embedded store;
# it prints the explorer's, the API's and the indicator pages' addresses once
# it listens. Another port, database or data folder is one variable each, and
# ARGS passes any other flag of `councilgraph serve -h`:
#   make run ADDR=127.0.0.1:9090
#   make run MONGODB_URI=mongodb://127.0.0.1:27017
#   make run DATA_DIR=/tmp/councilgraph
#   make run ARGS='--debug-addr ""'
# The first build compiles the embedded database (FerretDB on SQLite, both in
# pure Go): 1m45s of CPU, about a minute on an idle 2-core machine and many
# more on a busy one; later builds reuse Go's build cache and take seconds.
ADDR ?=
MONGODB_URI ?=
DATA_DIR ?=
ARGS ?=
run:
	@if [ "$$($(GO) list -f '{{.Stale}}' modernc.org/sqlite/lib 2>/dev/null)" != false ]; then \
	  echo "make run: first build: compiling councilgraph with its embedded database (FerretDB on SQLite, in pure Go)."; \
	  echo "make run: about a minute on an idle 2-core machine, many more on a busy one; later builds take seconds."; \
	else \
	  echo "make run: building councilgraph"; \
	fi
	@$(GO) build -o councilgraph .
	./councilgraph serve $(if $(ADDR),--addr '$(ADDR)') $(if $(MONGODB_URI),--mongodb-uri '$(MONGODB_URI)') $(if $(DATA_DIR),--data-dir '$(DATA_DIR)') $(ARGS)

# test runs the Go tests, then the Node checks in conformance/ (the example
# supergraph of examples/supergraph through Apollo Gateway and Hive Gateway,
# GraphQL-over-HTTP audits), installing the npm packages of both from their
# lockfiles first. The Node checks run even when a Go test fails, so that one
# run reports every failure; make test fails if either did.
#
# go test starts packages in the order they are named, two at a time on two
# cores: the longest (TEST_FIRST) start first, so that no long package runs
# alone at the end while a core idles (about 15 s of a 2-core machine's
# two minutes).
TEST_FIRST = ./httpapi ./store ./graph
test: chromium
	@status=0; \
	$(GO) test $(TEST_FIRST) ./... || { status=1; echo "make test: Go tests failed; running the Node checks anyway" >&2; }; \
	(cd examples/supergraph && npm ci --no-audit --no-fund) && \
	(cd conformance && npm ci --no-audit --no-fund && npm test) || status=1; \
	exit $$status

# test-stress runs the Go tests N times in a row (default 20) at GOMAXPROCS=1
# beside CPU-bound neighbours (NEIGHBOURS, default one per core), stopping at
# the first failure: no test may depend on the machine's speed. STRESS_ARGS go
# to `go test` (default ./...), e.g. make test-stress N=3 STRESS_ARGS='-run TestAttacks ./httpapi'.
N ?= 20
NEIGHBOURS ?=
STRESS_ARGS ?=
test-stress:
	N=$(N) NEIGHBOURS=$(NEIGHBOURS) GO=$(GO) scripts/stress-tests.sh $(STRESS_ARGS)

# chromium installs Debian's chromium for the browser checks where it is
# missing (as root, or through sudo); the checks never download a browser.
.PHONY: chromium
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

generate:
	$(GO) generate ./...

# explorer-assets rebuilds explorer/static (GraphiQL with its explorer
# plugin, uPlot, the indicator pages) from the npm packages pinned in
# explorer/web/package-lock.json; commit what it writes. `make run` needs
# only Go: the built files are embedded in the binary.
explorer-assets:
	cd explorer/web && npm ci --no-audit --no-fund && npm run build

build:
	$(GO) build -o councilgraph .

# GENERATED is what go generate writes: gqlgen's code and the schema text.
GENERATED = graph/ schema/sdl_gen.go

# check is what CI runs besides the tests: generated code is current,
# code is formatted and vet finds nothing.
check:
	$(GO) generate ./...
	@test -z "$$(git status --porcelain -- $(GENERATED))" || (git status --porcelain -- $(GENERATED) >&2; echo "generated code is stale: run make generate and commit" >&2; exit 1)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go') >&2; echo "gofmt would change the files above" >&2; exit 1)
	$(GO) vet ./...

# bench runs the benchmarks of bench/ on the embedded store: BENCH_SCALE=S
# (default), M or L picks the data set, generated once under var/bench/;
# BENCH=Import runs the importer benchmark instead. See BENCHMARKS.md.
BENCH ?= Ops
BENCH_SCALE ?= S
BENCH_TIME ?= 5x
.PHONY: bench
bench:
	cd bench && BENCH_SCALE=$(BENCH_SCALE) $(GO) test -run '^$$' -bench 'Benchmark$(BENCH)$$' -benchtime $(BENCH_TIME) -timeout 3h .
