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
# Kubernetes manifests are checked against the API schemas kubectl-validate
# embeds (the real apiserver OpenAPI, strict about unknown fields), for
# this Kubernetes version: the newest it embeds.
KUBECTL_VALIDATE_VERSION := v0.0.4
KUBECTL_VALIDATE := sigs.k8s.io/kubectl-validate@$(KUBECTL_VALIDATE_VERSION)
K8S_VERSION   := 1.30
DEPLOY_TOOLS  := $(shell $(GO) env GOPATH)/tools/kubectl-validate@$(KUBECTL_VALIDATE_VERSION)

BIN := bin

.PHONY: all build run check test test-short bench lint fmt vet tools fuzz clean proto proto-check proto-lint proto-plugins proto-include examples deploy-check deploy-tools

all: build

## build: compile geoaccess (CLI) and geoaccessd (server) into ./bin
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## run: the gRPC server on the embedded defaults (Ctrl-C stops it)
run:
	$(GO) run ./cmd/geoaccessd --listen 127.0.0.1:8443 --metrics-listen 127.0.0.1:9090

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
	@for t in $(STATICCHECK) $(PROTOC_GEN_GO) $(PROTOC_GEN_GRPC) $(BUF) $(GRPCURL) $(GHZ); do \
	  echo "go install $$t"; $(GO) install $$t || exit 1; \
	done

# Protocol buffers: protoc (Debian: protobuf-compiler, libprotobuf-dev,
# which ships google/protobuf/*.proto) with the pinned Go plugins,
# installed into $(PROTO_PLUGINS).
#
# googleapis' google/rpc/*.proto (status.proto, which the API imports, and
# error_details.proto, whose BadRequest clients decode) are not copied into
# the repository: they are taken from Debian's libgoogle-common-protos-java,
# whose jar (googleapis common protos $(GOOGLE_PROTOS_VERSION), Apache-2.0)
# carries the .proto files, and extracted into $(THIRD_PARTY_PROTO). The
# Go import path of google.rpc.Status is pinned on the command line, so the
# generated code does not depend on the copy's go_package.
PROTO_PLUGINS := $(abspath $(BIN))/protoc-plugins
PROTO_FILES   := proto/geoaccess/v1/adequacy.proto
GOOGLE_PROTOS_VERSION := 1.16.0
GOOGLE_PROTOS_JAR ?= /usr/share/java/proto-google-common-protos-$(GOOGLE_PROTOS_VERSION).jar
THIRD_PARTY_PROTO := $(abspath $(BIN))/proto-include
THIRD_PARTY_FILES := google/rpc/status.proto google/rpc/error_details.proto google/rpc/code.proto
PROTOC_GEN     = protoc -I proto -I $(THIRD_PARTY_PROTO) \
	--plugin=protoc-gen-go=$(PROTO_PLUGINS)/protoc-gen-go \
	--plugin=protoc-gen-go-grpc=$(PROTO_PLUGINS)/protoc-gen-go-grpc \
	--go_out=$(1) --go_opt=paths=source_relative \
	--go_opt=Mgoogle/rpc/status.proto=google.golang.org/genproto/googleapis/rpc/status \
	--go-grpc_out=$(1) --go-grpc_opt=paths=source_relative \
	$(PROTO_FILES)

proto-plugins: proto-include
	GOBIN=$(PROTO_PLUGINS) $(GO) install $(PROTOC_GEN_GO)
	GOBIN=$(PROTO_PLUGINS) $(GO) install $(PROTOC_GEN_GRPC)

## proto-include: googleapis' google/rpc protos from the Debian package into $(THIRD_PARTY_PROTO)
proto-include:
	@test -f $(GOOGLE_PROTOS_JAR) || { echo "proto-include: $(GOOGLE_PROTOS_JAR) is missing: apt-get install libgoogle-common-protos-java (googleapis common protos $(GOOGLE_PROTOS_VERSION))"; exit 1; }
	@rm -rf $(THIRD_PARTY_PROTO) && mkdir -p $(THIRD_PARTY_PROTO) && \
	unzip -q -o $(GOOGLE_PROTOS_JAR) $(THIRD_PARTY_FILES) -d $(THIRD_PARTY_PROTO)

## proto: regenerate the committed Go code from proto/
proto: proto-plugins
	$(call PROTOC_GEN,proto)

## proto-lint: buf lint (STANDARD + COMMENTS, see buf.yaml), offline
proto-lint: proto-include
	$(GO) run $(BUF) lint

## proto-check: fail when the committed generated code is not what `make proto` makes (CI)
proto-check: proto-plugins proto-lint
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(call PROTOC_GEN,$$tmp) && \
	(cd "$$tmp" && find . -name '*.pb.go' | sort) > "$$tmp/want.list" && \
	(cd proto && find . -name '*.pb.go' | sort) > "$$tmp/have.list" && \
	diff -u "$$tmp/want.list" "$$tmp/have.list" && \
	for f in $$(cat "$$tmp/want.list"); do \
	  diff -u -I '^// 	protoc ' "proto/$$f" "$$tmp/$$f" || { echo "proto-check: proto/$$f is out of date: run make proto"; exit 1; }; \
	done && echo "proto-check: generated code is up to date"

## examples: what the example clients need to run (docs/clients.md): the Python modules, generated into examples/python/gen, and the pinned npm packages of examples/node
examples:
	examples/python/generate.sh
	cd examples/node && npm ci --no-audit --no-fund --loglevel=error

# deploy-tools: kubectl-validate at the pinned version (a large build: the
# first install takes minutes; later ones find it in place).
deploy-tools:
	@test -x $(DEPLOY_TOOLS)/kubectl-validate || { echo "go install $(KUBECTL_VALIDATE)"; GOBIN=$(DEPLOY_TOOLS) $(GO) install $(KUBECTL_VALIDATE); }

## deploy-check: deploy/kubernetes against the Kubernetes $(K8S_VERSION) API schemas, docker-compose.yaml against the Compose specification, the Dockerfile through BuildKit's checks (CI)
deploy-check: deploy-tools
	$(DEPLOY_TOOLS)/kubectl-validate --version $(K8S_VERSION) $(filter-out %/kustomization.yaml,$(wildcard deploy/kubernetes/*.yaml))
	cd deploy/check && $(GO) run . compose ../../docker-compose.yaml && $(GO) run . dockerfile ../../Dockerfile

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '\.pb\.go$$')

clean:
	rm -rf $(BIN) bench.txt
