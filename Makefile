# Accrual: `make run` starts a working node; `make test` is what CI runs.
GO       ?= go
BIN      := bin/accrual
FUZZTIME ?= 5s
PKGS     := ./...

.PHONY: run build test fuzz-short bench lint conformance clean

build:
	$(GO) build -o $(BIN) ./cmd/accrual

run: build
	./$(BIN) serve --data data

test:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 8m $(PKGS)
	$(MAKE) --no-print-directory fuzz-short

# Every fuzz target runs briefly; `make fuzz-short FUZZTIME=5m` for longer.
fuzz-short:
	@for t in FuzzDecode FuzzDecodeBinary FuzzParseProgram FuzzRestore; do \
		$(GO) test ./engine/ -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) >/dev/null || exit 1; \
	done; echo "fuzz-short: ok"

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./engine/

conformance: build
	python3 ../shared/conformance/check.py ./$(BIN)

lint:
	gofmt -l . && $(GO) vet $(PKGS) && $(GO) run honnef.co/go/tools/cmd/staticcheck@2025.1.1 $(PKGS)

clean:
	rm -rf bin data
