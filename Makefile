GO ?= go
GOFMT ?= gofmt
BIN := bin/casare

# staticcheck is pinned so that a new release's checks do not fail lint on
# code nobody changed. v0.8.2 (staticcheck 2026.2.2) is the newest release
# and is built for Go 1.26 (its go.mod asks for 1.26.0), as this module is.
# It is installed into bin/ on first use, one directory per version, so a
# bump installs the new one.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := bin/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

.PHONY: build run lint fmt test bench fuzz clean web

build:
	$(GO) build -o $(BIN) ./cmd/casare

run: build
	./$(BIN) node start

# lint fails on the first of: files gofmt would change (listed), go vet
# findings (here and for Windows, where robots run; the cluster tests and
# the bench are Unix-only), staticcheck findings (its configuration is
# staticcheck.conf).
lint: $(STATICCHECK)
	@files=$$($(GOFMT) -l .); if [ -n "$$files" ]; then \
		echo "gofmt would change these files (run make fmt):"; echo "$$files"; exit 1; fi
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	$(STATICCHECK) ./...

$(STATICCHECK):
	GOBIN=$(abspath $(dir $(STATICCHECK))) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

fmt:
	$(GOFMT) -w .

# test never reuses cached results: the cluster tests build and run
# bin/casare themselves, so the Go test cache cannot see when the code
# they exercise changed.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

# bench builds bin/casare, starts three casare processes on loopback and
# drives them over the REST API from a load generator (bench/queue),
# beside raw Raft measured in a helper process in the same run, over
# plain TCP and over mutual TLS as nodes run it (the yardstick).
# The table runs three times (-runs 3, about 35 s a run on a loaded
# 2-core machine) and ends with each figure's min, median and max; the
# aims are judged on the median.
# BENCHFLAGS passes e.g. -quick (a smoke run), -runs 1 (one run),
# -cpuprofile DIR (a CPU profile per node and figure, from the nodes'
# --pprof), or "-runs 1 -inprocess" for the in-process table (nodes inside
# the bench process, -nodes 1,3).
# Then it runs the event stream under full load with a fast and a slow
# subscriber (-events, in-process nodes): the EVENTS line says whether
# the fast one keeps up and how much the submit rate drops.
# Then the fleet figures: 1,000 internet robots (each its own QUIC
# connection and token) and 200 LAN slots on three processes; the idle
# fleet's leader CPU and Raft entries, and the dispatch rate with the
# whole fleet beside 50 internet robots (-fleet, bench/queue/fleet.go).
# Then the memory figures: one process with 1M queued jobs (RSS per
# job) and the time it takes to be ready again after a restart.
# Then the schedule figures on three casare processes: lateness (fire
# time → job queued) of 100 fires of an every-second schedule, and the
# time from a SIGKILL of the leader to the new leader's first fire.
# Last, the archiver: the end-to-end load on three processes started
# with --archive-url, its throughput and lag, on a fresh database of the
# Postgres at BENCH_PG (created and dropped by the run).
BENCH_PG ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
bench: build
	$(GO) run ./bench/queue -bin $(BIN) -runs 3 $(BENCHFLAGS)
	$(GO) run ./bench/queue -events -nodes 3
	$(GO) run ./bench/queue -bin $(BIN) -fleet
	$(GO) run ./bench/queue -bin $(BIN) -memory 1000000
	$(GO) run ./bench/queue -bin $(BIN) -schedules
	$(GO) run ./bench/queue -bin $(BIN) -archive '$(BENCH_PG)'

# web rebuilds the dashboard's bundle (web/dist, committed and embedded
# into the binary) from its TypeScript source. It needs Node.js 20.19+;
# build, run and test do not, since they use the committed bundle.
web:
	cd web && npm ci && npm run build
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
