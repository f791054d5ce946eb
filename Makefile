GO ?= go
BIN := bin/casare

.PHONY: build run test bench fuzz vet fmt clean

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

# fuzz runs every fuzz target in the repository for FUZZTIME each. Targets
# are found with `go test -list` in every package, so a new FuzzX anywhere
# is included without editing this file; a package that does not build
# fails the run rather than dropping its targets.
FUZZTIME ?= 10s
fuzz:
	@list=$$($(GO) test -list '^Fuzz' ./...) || { echo "$$list"; exit 1; }; \
	targets=$$(echo "$$list" | awk '/^Fuzz/ { names[++n] = $$1; next } /^ok/ { for (i = 1; i <= n; i++) print $$2 "," names[i]; n = 0 }'); \
	[ -n "$$targets" ] || { echo "no fuzz targets found"; exit 1; }; \
	for t in $$targets; do \
		pkg=$${t%%,*}; name=$${t#*,}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

clean:
	rm -rf bin casare-data
