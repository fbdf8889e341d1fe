# Accrual: `make run` starts a working node; `make test` is what CI runs.
GO       ?= go
BIN      := bin/accrual
FUZZTIME ?=
PKGS     := ./...

.PHONY: run build test browser fuzz-short bench bench-peer chaos kcat lint conformance clean

build:
	$(GO) build -o $(BIN) ./cmd/accrual

run: build
	./$(BIN) serve --bootstrap --data data

test: browser
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 8m $(PKGS)
	$(MAKE) --no-print-directory fuzz-short

# The console's browser test needs Chromium: installed here when missing
# (Debian's package); without it that one test skips and says why.
browser:
	@sh scripts/install-chromium.sh >/dev/null 2>&1 || echo "browser: chromium could not be installed; the console browser test will skip"

# Every fuzz target runs briefly: a count of executions (about 3 s each on
# a 2-core machine), not a duration, since Go 1.26's fuzz coordinator can
# fail a duration run at its deadline with "context deadline exceeded" and
# no failing input (golang/go#75804, fixed in Go 1.27). `make fuzz-short
# FUZZTIME=5m` runs each target for a duration instead.
# A failed target runs once more: Go saves a failing input under
# testdata/fuzz, where the second run replays it first, so a real failure
# fails twice.
fuzz-short:
	@for t in engine:FuzzDecode:50000 engine:FuzzDecodeBinary:40000 engine:FuzzParseProgram:500 engine:FuzzRestore:10000 engine:FuzzLoadRecord:10000 \
		api:FuzzSplitArray:8000 api:FuzzDecodeBody:8000 api:FuzzReadQuery:10000 bench:FuzzResultLines:3000 ledger:FuzzDecodeBlock:5000 ledger:FuzzImport:3000 \
		raft/codec:FuzzDecompress:6000; do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$(FUZZTIME); budget=$${budget:-$${rest#*:}x}; \
		fuzz() { $(GO) test ./$$pkg/ -run '^$$' -fuzz "^$$name\$$" -fuzztime $$budget >/tmp/fuzz-short.log 2>&1; }; \
		fuzz || { tail -20 /tmp/fuzz-short.log; echo "fuzz-short: $$pkg $$name: once more (an input that failed is saved under testdata/fuzz and fails again)"; \
			fuzz || { tail -40 /tmp/fuzz-short.log; echo "fuzz-short: $$pkg $$name failed"; exit 1; }; }; \
	done; echo "fuzz-short: ok"

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./engine/

# The same payback stream through the engine and through PostgreSQL 15
# (started from the installed binaries in a temporary directory).
bench-peer: build
	./$(BIN) bench --target engine --profile payback --count 200000 --peer postgres --json bench-peer.json --plot bench-peer

# The long chaos run (docs/RELIABILITY.md); a short form runs in make test.
# Two workload clients: with four, three nodes on one 24 GB machine hold
# 12M commands' ids (SPEC §6 keeps every one) and the OOM killer ends a node.
chaos: build
	./$(BIN) chaos --duration 30m --nodes 3 --clients 4 --kinds all $(if $(SEED),--seed $(SEED))

# Kafka ingest from an independent producer: kcat feeds a topic, the
# leader of three nodes is killed midway, the members must equal an offline
# replay (scripts/kcat-ingest.sh; needs the Debian package kcat). Not in
# make test: it builds and runs four processes for about half a minute.
kcat: build
	sh scripts/kcat-ingest.sh

conformance: build
	python3 ../shared/conformance/check.py ./$(BIN) coalition cashback airline club retail

lint:
	gofmt -l . && $(GO) vet $(PKGS) && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

clean:
	rm -rf bin data
