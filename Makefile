# Storefront: `make run` serves the shop on :8000 with the checkout simulator; `make test` tests it.
GO ?= go

.PHONY: run dev test test-postgres generate vendor fmt vet bench soak soak-attack

run: ## serve the shop on :8000 (no Stripe account needed)
	$(GO) run ./cmd/storefront

dev: ## rebuild and reload the browser on every change to a .templ or .go file
	$(GO) tool templ generate --watch --proxy="http://localhost:8000" --open-browser=false \
		--cmd="$(GO) run ./cmd/storefront"

test: ## every test, including the browser test when Chromium is installed; on PostgreSQL too when pg_virtualenv is
	$(GO) test -count=1 -timeout 10m ./...
	@if command -v pg_virtualenv >/dev/null 2>&1; then $(MAKE) --no-print-directory test-postgres; \
	else echo "pg_virtualenv not installed (Debian: apt-get install postgresql): the PostgreSQL run is skipped"; fi

test-postgres: ## the store, handler, payments, reconcile and mail tests, and two instances of the shop, on a throwaway PostgreSQL cluster
	pg_virtualenv -t sh -c 'export STOREFRONT_TEST_DATABASE_URL=postgres:// && \
		$(GO) test -count=1 -timeout 10m ./store/... ./handlers ./payments ./reconcile ./mail && \
		$(GO) test -count=1 -timeout 5m -run TestTwoInstances ./cmd/storefront'

generate: ## regenerate the templ components and the compressed assets (both are committed)
	$(GO) tool templ generate
	$(GO) generate ./assets

vendor: ## refresh assets/ from the npm packages pinned in package.json
	npm ci --no-audit --no-fund
	cp node_modules/htmx.org/dist/htmx.min.js assets/htmx.min.js
	cp node_modules/htmx.org/dist/ext/hx-sse.min.js assets/hx-sse.min.js
	cp node_modules/htmx.org/dist/ext/hx-upsert.min.js assets/hx-upsert.min.js
	$(GO) generate ./assets

fmt:
	gofmt -w $$(git ls-files '*.go')
	$(GO) tool templ fmt .

vet:
	$(GO) vet ./...

bench: ## load, latency and memory figures, printed and written to BENCHMARKS.md; on PostgreSQL too when pg_virtualenv is installed
	@if command -v pg_virtualenv >/dev/null 2>&1; then \
		pg_virtualenv -t -o fsync=on sh -c '$(GO) run ./cmd/storebench -postgres postgres://'; \
	else echo "pg_virtualenv not installed (Debian: apt-get install postgresql): measuring on SQLite only"; $(GO) run ./cmd/storebench; fi

soak: ## the long crash test: kill -9 mid-stream, restart, nothing lost
	SOAK=1 $(GO) test -count=1 -run TestCrashRecovery -v -timeout 20m ./cmd/storefront

soak-attack: ## replay known attacks for 3 minutes: /healthz fast, the owner can log in, memory bounded
	$(GO) run ./cmd/storesoak -duration 3m
