# realmd build, test and benchmark targets. `make help` lists them.
SHELL := /bin/bash
GO ?= go
BIN := bin/realmd
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
GOBIN := $(shell $(GO) env GOPATH)/bin
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
# The same version as the vtprotobuf runtime in go.mod.
PROTOC_GEN_GO_VTPROTO_VERSION := v0.6.1-0.20240319094008-0393e58bdf10
STATICCHECK_VERSION := v0.8.2
# Every test, integration tests included, with the race detector.
TEST_TIMEOUT ?= 20m
FUZZTIME ?= 60s
# make test fuzzes by a count of executions (about 10 s here), not a
# duration: Go 1.26's fuzz coordinator can report a spurious "context
# deadline exceeded" at the end of a -fuzztime duration (golang/go#75804,
# fixed in Go 1.27). make fuzz keeps durations; a bare deadline failure
# there without a "Failing input written" line is that bug.
TEST_FUZZ_EXECS ?= 80000x
# make bench measures each wrk case this many times, in interleaved rounds,
# and prints median ratios with their range.
BENCH_ROUNDS ?= 3

.PHONY: help build run test test-short bench fuzz proto lint tools clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/realmd
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/realmd

run: build ## build and serve the quickstart config on 127.0.0.1:9200
	./$(BIN) serve --config examples/quickstart

test: ## run every test (unit, integration, end-to-end) with -race, and the token and wire fuzzers for 80,000 inputs each
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...
	$(GO) test -run '^$$' -fuzz '^FuzzParseToken$$' -fuzztime $(TEST_FUZZ_EXECS) ./plugins/jwt
	$(GO) test -run '^$$' -fuzz '^FuzzWire$$' -fuzztime $(TEST_FUZZ_EXECS) ./sdk

test-short: ## unit tests only
	$(GO) test -race -short -count=1 ./...

bench: build ## benchmarks with same-run baselines and ratios (installs wrk)
	command -v wrk >/dev/null || (DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk || \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk))
	REALMD_BENCH_ROUNDS=$(BENCH_ROUNDS) $(GO) test -run '^$$' -bench . -benchtime 2s -count 1 -timeout 30m ./bench/ | tee bench.out
	$(GO) test -run '^$$' -bench PoolVsFresh -benchtime 2s -count 1 ./plugins/ldap/ | tee -a bench.out

fuzz: ## run every fuzz target for FUZZTIME each
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

proto: tools ## regenerate the committed protobuf code
	command -v protoc >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends protobuf-compiler)
	PATH="$(GOBIN):$$PATH" protoc --go_out=. --go_opt=paths=source_relative \
	  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
	  --go-vtproto_out=. --go-vtproto_opt=paths=source_relative --go-vtproto_opt=features=marshal+unmarshal+size \
	  sdk/proto/realmv1/realm.proto

lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l .)" || (echo "not gofmt-ed:"; gofmt -l .; exit 1)
	$(GO) vet ./...
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck ./...

tools: ## install the code generators
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	$(GO) install github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto@$(PROTOC_GEN_GO_VTPROTO_VERSION)

clean: ## remove build output
	rm -rf bin bench.out
