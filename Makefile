# geoaccess — make targets. Tool versions are pinned here; `make tools`
# installs them into $(GOBIN) (default: $(go env GOPATH)/bin).

GO            ?= go
GOBIN         ?= $(shell $(GO) env GOPATH)/bin
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
PROTOC_GEN_GO := google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GRPC := google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
BUF           := github.com/bufbuild/buf/cmd/buf@v1.75.0
GRPCURL       := github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4
GHZ           := github.com/bojand/ghz/cmd/ghz@v0.93.0
BENCHSTAT     := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

BIN := bin

.PHONY: all build run check test test-short bench lint fmt vet tools fuzz clean

all: build

## build: compile geoaccess (CLI) and geoaccessd (server) into ./bin
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## run: the main job on the embedded defaults
run:
	$(GO) run ./cmd/geoaccess check --lat 40.75 --lon -73.99 --discipline all

## test: vet, staticcheck and every test with the race detector
test: vet lint
	$(GO) test -race -count=1 ./...

## test-short: the tests without the race detector, quickly
test-short:
	$(GO) test -count=1 ./...

## bench: every benchmark, five times each, summarised by benchstat
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 -timeout 60m ./... | tee bench.txt
	$(GO) run $(BENCHSTAT) bench.txt

## fuzz: each fuzz target for FUZZTIME (default 20s)
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$'))" || (gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$'); echo "gofmt: files above need formatting"; exit 1)

## lint: staticcheck, at the pinned version
lint:
	$(GO) run $(STATICCHECK) ./...

## tools: install the pinned developer tools
tools:
	$(GO) install $(STATICCHECK) $(PROTOC_GEN_GO) $(PROTOC_GEN_GRPC) $(BUF) $(GRPCURL) $(GHZ)

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '\.pb\.go$$')

clean:
	rm -rf $(BIN) bench.txt
