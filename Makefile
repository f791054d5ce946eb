GO ?= go
BIN := bin/casare

.PHONY: build run test bench fuzz vet fmt clean

build:
	$(GO) build -o $(BIN) ./cmd/casare

run: build
	./$(BIN) node start

test:
	$(GO) vet ./...
	$(GO) test -race -timeout 20m ./...

# bench starts real in-process clusters on loopback and prints queue
# throughput and latency; BENCHFLAGS passes e.g. -quick or -cpuprofile DIR.
bench:
	$(GO) run ./bench/queue $(BENCHFLAGS)

clean:
	rm -rf bin casare-data
