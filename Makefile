# pithosfs — see README.md. `make run` starts the local cloud; `make test` is what CI runs.
GO       ?= go
BIN      := bin/pithosfs
PKGS     := ./...
DATA     ?= $(CURDIR)/.local/cloud
LISTEN   ?= 127.0.0.1:8080

.PHONY: build test unit integration bench bench-server lint run clean

build:
	$(GO) build -o $(BIN) ./cmd/pithosfs

# test: static checks, then every test (unit and end-to-end) with the race detector.
test: lint
	$(GO) test -race -count=1 -timeout 40m $(PKGS)

unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /integration)

integration: build
	$(GO) test -race -count=1 -timeout 40m -v ./integration/...

bench: bench-server

# bench-server: GET of a 1 GiB object from `pithosfs serve` vs a plain net/http file server, side by side.
bench-server:
	$(GO) test -run '^$$' -bench BenchmarkServerGet -benchtime 3x -timeout 20m ./synnefo/localcloud/

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

run: build
	$(BIN) serve --listen $(LISTEN) --data $(DATA)

clean:
	rm -rf bin .local
