# councilgraph: the everyday commands. `make run` serves the Stockton data on
# the embedded store; `make test` runs every test.

GO ?= go

.PHONY: run test generate check build

run:
	$(GO) run . serve

test:
	$(GO) test ./...

generate:
	$(GO) generate ./...

build:
	$(GO) build -o councilgraph .

# check is what CI runs besides the tests: generated code is current,
# code is formatted and vet finds nothing.
check:
	$(GO) generate ./...
	@test -z "$$(git status --porcelain -- graph/)" || (git status --porcelain -- graph/ >&2; echo "generated code is stale: run make generate and commit" >&2; exit 1)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go') >&2; echo "gofmt would change the files above" >&2; exit 1)
	$(GO) vet ./...
