# roomring — run `make help` for the targets.

GO        ?= go
BIN       := bin
ROOMRING  := $(BIN)/roomring
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/roomring/roomring/cmd.Version=$(VERSION)
FUZZTIME  ?= 20s
TESTFLAGS ?=

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: build
build: ## Build bin/roomring.
	$(GO) build -ldflags "$(LDFLAGS)" -o $(ROOMRING) .

.PHONY: run
run: build ## Run a standalone dev node with the sample rooms on http://127.0.0.1:8080.
	$(ROOMRING) node --dev --listen 127.0.0.1:8080

.PHONY: fmt
fmt: ## Format the Go code.
	gofmt -w $$(git ls-files '*.go')

.PHONY: lint
lint: ## Vet the code and check formatting.
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

##@ Testing

.PHONY: test
test: lint test-go fuzz ## Run every test: unit, integration, browser and fuzz (bounded).

.PHONY: test-go
test-go: ## Go tests with the race detector (unit and integration).
	$(GO) test -race -count=1 $(TESTFLAGS) ./...

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME.
	$(GO) test ./node/protocol/venueless -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
