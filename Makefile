# pithosfs — see README.md. `make run` starts the local cloud; `make test` is what CI runs; `make check` is
# the fast lane for contributors (lint + unit tests: no FUSE, no Swift).
GO       ?= go
BIN      := bin/pithosfs
PKGS     := ./...
DATA     ?= $(CURDIR)/.local/cloud
CACHE    ?= $(CURDIR)/.local/cache
ARGS     ?=

.PHONY: build test check unit integration bench bench-server bench-mount bench-meta bench-compare lint run clean install

build:
	@echo "go build -o $(BIN) ./cmd/pithosfs   (the first build fetches and compiles the dependencies: a minute or two)"
	@$(GO) build -o $(BIN) ./cmd/pithosfs

# test: the whole suite with its set-up (scripts/test.sh): installs missing Debian packages as root (otherwise
# prints the command), starts a Swift of its own on free ports and stops it on exit, lint, go test -race ./...
test:
	GO=$(GO) scripts/test.sh

# check: the fast lane, lint and the unit tests without the race detector (35 s against 113 s with it): every
# package but integration/, less the tests that need FUSE or a real Swift (named here; they never skip
# themselves). make unit adds the race detector; make test runs everything with it.
CHECK_SKIP := ^(TestImagesAndServersThroughTheMount|TestControlTreesWithTheCloudGone|TestControlWritesWithTheCloudGone|TestControlCreateReplyLost|TestControlDocumentBounded|TestControlNameNotUTF8|TestDeleteServersWithTheFlag|TestVolumeSpecsRefused|TestVolumesAndSnapshotsThroughTheMount|TestDeleteVolumesWithTheFlag|TestSwiftStorage)$$
check: lint
	$(GO) test -count=1 -skip '$(CHECK_SKIP)' $$($(GO) list ./... | grep -v /integration)

unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /integration)

integration: build
	$(GO) test -race -count=1 -timeout 40m -v ./integration/...

bench: bench-server bench-mount bench-meta

# bench-server: GET of a 1 GiB object from `pithosfs serve` vs a plain net/http file server, side by side.
bench-server:
	$(GO) test -run '^$$' -bench BenchmarkServerGet -benchtime 3x -timeout 20m ./synnefo/localcloud/

# bench-mount: through a real mount of a local server: cold and warm sequential reads of a 1 GiB object
# against raw parallel block GETs and a local cat, ls -l of 10 000 objects, the daemon's peak RSS and CPU;
# BenchmarkMountWrite: a new 1 GiB file written through the mount against one raw PUT (curl -T), on serve
# and on the real Swift (SWIFT_AUTH_URL…, or one the harness starts), with the CPU of daemon, server, curl
# and SHA-256 of the same bytes.
# PITHOSFS_BENCH_ROUNDS (default 2) rounds; PITHOSFS_BENCH_BASELINE=/path/to/older/pithosfs mounts that
# build too, alternating, so before/after figures come from one run on the same server.
bench-mount: build
	PITHOSFS_BIN=$(CURDIR)/$(BIN) $(GO) test -run '^$$' -bench '^BenchmarkMount(Write)?$$' -benchtime 1x -timeout 30m ./integration/

# bench-meta: through a real mount of a local server, each next to its raw figure: ls -l of 10 000 objects
# vs one listing request; ls -l while 16 writers create files in the directory; cp -r of 2 000 x 4 KiB
# files vs raw PUTs (one at a time, 16 at a time), requests per file, daemon CPU and peak RSS; ls -l of
# 50 000 objects: peak RSS and RSS once the listing is dropped. PITHOSFS_BENCH_LS/SMALL/HUGE change counts.
bench-meta: build
	PITHOSFS_BIN=$(CURDIR)/$(BIN) $(GO) test -run '^$$' -bench '^BenchmarkMountMeta$$' -benchtime 1x -timeout 30m ./integration/

# bench-compare: pithosfs vs rclone mount (Debian's, installed when missing) on a real Swift and on pithosfs serve,
# against raw HTTP; sizes: make bench-compare BENCH_ARGS="--size-mib 256 --ls-count 2000".
bench-compare:
	scripts/bench-compare.sh $(BENCH_ARGS)

# install: the binary, mount(8)'s helper (mount.pithosfs, so fstab lines of type pithosfs work) and the systemd
# unit example. PREFIX=/usr/local by default; the helper goes to /sbin, where mount(8) looks for it.
PREFIX  ?= /usr/local
SBINDIR ?= /sbin
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/pithosfs
	install -d $(DESTDIR)$(SBINDIR)
	ln -sf $(PREFIX)/bin/pithosfs $(DESTDIR)$(SBINDIR)/mount.pithosfs
	install -D -m 0644 docs/pithosfs@.service $(DESTDIR)$(PREFIX)/lib/systemd/system/pithosfs@.service

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	@# cache and fs/writeback know blocks and bytes, not HTTP (docs/design.md): neither may depend on net/http.
	@! $(GO) list -deps ./cache ./fs/writeback | grep -qx net/http || { echo "cache or fs/writeback depends on net/http:"; $(GO) list -deps ./cache ./fs/writeback | grep -x net/http; exit 1; }
	@# the in-memory object store is for tests only: nothing the binary is built from may import it.
	@! $(GO) list -deps ./cmd/... | grep -q fakestore || { echo "the binary depends on fs/internal/fakestore"; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

# run: mount the embedded local cloud (data in $(DATA), cache in $(CACHE)) at ./mnt, in the foreground.
# More mount options: make run ARGS="--allow-delete-servers --log-level debug".
run:
	@scripts/prereqs.sh run
	@$(MAKE) --no-print-directory build
	@mkdir -p mnt
	@echo "pithosfs: mounting the embedded local cloud at ./mnt — unmount with Ctrl-C here, or 'fusermount3 -u mnt' from another shell"
	$(BIN) mount --local --local-data $(DATA) --cache-dir $(CACHE) $(ARGS) mnt

# clean: the binary and make run's cloud data and cache.
clean:
	rm -rf bin .local
