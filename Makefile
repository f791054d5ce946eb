GO ?= go
BIN := bin/casare

.PHONY: build run test bench fuzz vet fmt clean web

build:
	$(GO) build -o $(BIN) ./cmd/casare

run: build
	./$(BIN) node start

# test never reuses cached results: the cluster tests build and run
# bin/casare themselves, so the Go test cache cannot see when the code
# they exercise changed.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

# bench starts real in-process clusters on loopback and prints queue
# throughput and latency; BENCHFLAGS passes e.g. -quick or -cpuprofile DIR.
bench:
	$(GO) run ./bench/queue $(BENCHFLAGS)

# web rebuilds the dashboard's bundle (web/dist, committed and embedded
# into the binary) from its TypeScript source. It needs Node.js 20.19+;
# build, run and test do not, since they use the committed bundle.
web:
	cd web && npm ci && npm run build

clean:
	rm -rf bin casare-data
