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

clean:
	rm -rf bin casare-data
