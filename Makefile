# duplex make targets. `make test` is the command CI runs (through .ci/run).
GO        ?= go
FUZZTIME  ?= 30s
BENCHTIME ?= 500ms
ROUNDS    ?= 5
STATICCHECK_VERSION ?= 2025.1.1
REPORTS   ?= $(CURDIR)/autobahn/reports

.PHONY: test test-short interop-deps bench-deps bench bench-quick bench-lib fuzz lint conformance conformance-full demo demo-shot

## test: every test, with the race detector: the module, the purego build, and the interop module (Node ws, gorilla, coder, Chromium).
test: interop-deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -count=1 -tags purego ./mask/ ./frame/
	cd interop && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 20m ./...
	cd fuzz && $(GO) vet ./... && $(GO) test -count=1 ./...
	cd bench && $(GO) vet ./...

## interop-deps: the Node packages the interop tests drive, from the lock file.
interop-deps:
	cd interop && npm ci --no-audit --no-fund --loglevel=error

## test-short: the library's own tests without the conformance suite or peers.
test-short:
	$(GO) test -short -count=1 ./...

## conformance: our Autobahn-style suite against our server and client; reports in autobahn/reports.
conformance:
	DUPLEX_AUTOBAHN_REPORTS=$(REPORTS) $(GO) test -count=1 -v -run 'Conformance' ./autobahn/suite/ | grep -E '^(---|ok|FAIL)|cases,|^\s+[A-Z-]+/'

## conformance-full: the same at the original sizes and message counts (slow).
conformance-full:
	DUPLEX_AUTOBAHN_FULL=1 DUPLEX_AUTOBAHN_REPORTS=$(REPORTS) $(GO) test -count=1 -timeout 2h -v -run 'Conformance' ./autobahn/suite/

## bench-deps: the Node servers the comet benchmarks measure against (socket.io), from the lock file.
bench-deps:
	cd bench/node && npm ci --no-audit --no-fund --loglevel=error

## bench: duplex beside its peers, interleaved rounds, medians; writes bench/RESULTS.md (ROUNDS, BENCHTIME).
bench: bench-deps
	cd bench && $(GO) run ./cmd/benchtable -rounds $(ROUNDS) -benchtime $(BENCHTIME) > RESULTS.md && cat RESULTS.md

## bench-quick: the same, 2 rounds at 100 ms (a few minutes: the idle-memory families open 10,000 connections).
bench-quick: bench-deps
	cd bench && $(GO) run ./cmd/benchtable -quick > RESULTS.md && cat RESULTS.md

## bench-lib: the library's own benchmarks (mask, frame, utf8, ws).
bench-lib:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./mask/ ./frame/ ./internal/... ./ws/

## fuzz: every fuzz target (the module's and the differential ones in fuzz/) for FUZZTIME each
## (a duration, or a count such as 10000x; with a duration Go 1.26 may end a
## clean run with a spurious "context deadline exceeded", golang/go#75804).
fuzz:
	@set -e; for dir in . fuzz; do (cd $$dir && for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done); done

## lint: gofmt, go vet and staticcheck.
lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l .; exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## demo: the demo server on 127.0.0.1:8080.
demo:
	$(GO) run ./cmd/duplex

## demo-shot: runs the demo in headless Chromium for DEMO_SECONDS and writes
## docs/demo.png and docs/demo-figures.md (the README's screenshot and figures).
DEMO_SECONDS ?= 30
demo-shot: interop-deps
	mkdir -p docs
	cd interop && DUPLEX_DEMO_SHOT=$(CURDIR)/docs DUPLEX_DEMO_SECONDS=$(DEMO_SECONDS) $(GO) test -count=1 -run '^TestDemoInChromium$$' -v .
