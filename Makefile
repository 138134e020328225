# roomring — run `make help` for the targets.

GO        ?= go
BIN       := bin
ROOMRING  := $(BIN)/roomring
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/roomring/roomring/cmd.Version=$(VERSION)
# An execution count, not a duration: Go 1.26's fuzz coordinator can fail a
# target with a bare "context deadline exceeded" when a -fuzztime duration
# ends under load (go.dev/issue/75804, fixed in Go 1.27); a count has no
# deadline to race. ~20 s per target on this machine.
FUZZTIME  ?= 60000x
BENCHTIME ?= 1s
TESTFLAGS ?=
CONTROLLER_TOOLS_VERSION ?= v0.19.0
CONTROLLER_GEN ?= $(BIN)/controller-gen
HELM      ?= $(BIN)/helm
CHART     := charts/roomring

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

.PHONY: run-cluster
run-cluster: build ## Run a pool of three dev nodes on one throwaway PostgreSQL (http://127.0.0.1:8081-8083); Ctrl-C stops it all.
	ROOMRING=$(ROOMRING) hack/run-cluster.sh

.PHONY: fmt
fmt: ## Format the Go code.
	gofmt -w $$(git ls-files '*.go')

.PHONY: lint
lint: ## Vet the code and check formatting.
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: manifests
manifests: controller-gen ## Generate the CRD from api/ markers into config/crd/bases (and the chart's copy), and the RBAC roles of the operator and the nodes into config/rbac.
	$(CONTROLLER_GEN) crd paths="./api/..." output:crd:artifacts:config=config/crd/bases
	hack/crd-schedule-data.sh
	$(CONTROLLER_GEN) rbac:roleName=roomring-operator paths="./controllers/..." output:rbac:artifacts:config=config/rbac/operator
	$(CONTROLLER_GEN) rbac:roleName=roomring-node paths="./node/kube/..." output:rbac:artifacts:config=config/rbac/node
	hack/chart-crds.sh

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: verify-generated
verify-generated: manifests generate ## Fail when generated files are not up to date.
	@git diff --exit-code -- config/crd config/rbac api charts/roomring/templates/crds || { echo "generated files are stale: run make manifests generate"; exit 1; }

##@ Testing

.PHONY: test
test: test-deps lint verify-generated test-go fuzz chart-lint e2e ## Run every test: unit, integration, browser and fuzz (bounded); installs what they need first (test-deps).

.PHONY: test-deps
test-deps: ## Install what the tests need beyond Go (chromium, node + socket.io-client, PostgreSQL): hack/setup-test-deps.sh, idempotent and quiet when all is there.
	hack/setup-test-deps.sh

.PHONY: test-go
test-go: test-deps test-binaries ## Go tests with the race detector (unit and integration; the envtest suites need bin/etcd and bin/kube-apiserver).
	$(GO) test -race -count=1 $(TESTFLAGS) ./...

.PHONY: test-envtest
test-envtest: test-binaries ## The operator's suites only: a real kube-apiserver + etcd (envtest) with real nodes.
	$(GO) test -race -count=1 $(TESTFLAGS) ./controllers/... ./node/kube/... ./node/admin/...

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (an execution count, e.g. 60000x).
	$(GO) test ./node/protocol/venueless -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./node/protocol/socketio -run '^$$' -fuzz '^FuzzDecodePacket$$' -fuzztime $(FUZZTIME)
	$(GO) test ./node/protocol/socketio -run '^$$' -fuzz '^FuzzSplitEngine$$' -fuzztime $(FUZZTIME)
	$(GO) test ./node/op -run '^$$' -fuzz '^FuzzParseProfile$$' -fuzztime $(FUZZTIME)

.PHONY: bench
bench: ## Micro-benchmarks of the hot paths with -benchmem (BENCHTIME, default 1s); load workloads: loadgen/bench.sh, see docs/benchmarks.md.
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./node/protocol/venueless ./node/protocol/socketio ./node/room ./node/edge ./node/cluster/ring

.PHONY: chart-lint
chart-lint: helm ## Lint and render the Helm chart over every value set in charts/roomring/ci; check the CRD copy and the rendered objects.
	hack/chart-crds.sh --check
	$(HELM) lint --strict $(CHART)
	@set -e; for f in $(CHART)/ci/*.yaml; do \
		echo ">> helm lint + template -f $$f"; \
		$(HELM) lint --strict --quiet $(CHART) -f $$f; \
		$(HELM) template roomring $(CHART) --namespace roomring -f $$f >/dev/null; \
	done
	ROOMRING_CHART_TEST=1 HELM=$(CURDIR)/$(HELM) $(GO) test -count=1 ./test/chart/

.PHONY: e2e
e2e: test-deps helm test-binaries ## The README's "Run on Kubernetes" against a real kube-apiserver (bin/): helm install/upgrade/uninstall, then the operator and three nodes as processes with real clients (node + test/socketio and PostgreSQL come from test-deps).
	ROOMRING_E2E=1 $(GO) test -count=1 -v ./test/e2e/

.PHONY: chart-crds
chart-crds: ## Wrap the CRDs of config/crd/bases into the chart's templates (after make manifests).
	hack/chart-crds.sh

##@ Tools

.PHONY: helm
helm: ## Build the pinned helm into bin/ when missing (hack/helm.sh).
	@hack/helm.sh >/dev/null

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into bin/.
$(CONTROLLER_GEN):
	GOBIN=$(CURDIR)/$(BIN) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

.PHONY: test-binaries
test-binaries: ## Build etcd and kube-apiserver into bin/ (for envtest and e2e).
	hack/build-test-binaries.sh all
