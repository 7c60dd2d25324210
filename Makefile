# kefu: `make run` serves on http://127.0.0.1:3000, `make test` runs every check.
# Both install what is missing first (scripts/setup.sh).

SHELL := /bin/bash
KEFU_DB ?= data/kefu.db
export LEPTOS_SITE_ROOT ?= target/site

.PHONY: setup setup-test setup-engines build run cluster test lint unit e2e fmt clean screenshot bench

setup:
	@scripts/setup.sh build

setup-test:
	@scripts/setup.sh test

setup-engines:
	@scripts/setup.sh engines

# The full bundle (kefu.*) by cargo-leptos, then the visitor's (widget.*),
# then both precompressed.
build: setup
	cargo leptos build --release
	scripts/widget-bundle.sh
	scripts/precompress.sh target/site/pkg
	scripts/precompress.sh target/site

run: build
	./target/release/kefu --db $(KEFU_DB) serve

# Three nodes on one PostgreSQL database and one Redis, behind HAProxy on
# http://127.0.0.1:3000, until Ctrl-C; the data is thrown away at exit
# (scripts/cluster.sh; docs/DEPLOY.md, "Many nodes").
cluster: setup-engines build
	scripts/cluster.sh

fmt:
	cargo fmt --all

lint: setup
	cargo fmt --all --check
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings
	cargo clippy --lib --features visitor-bundle --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p kefu-bench --all-targets -- -D warnings

# Every test on SQLite (tests/postgres.rs on PostgreSQL), then the server's
# tests again on PostgreSQL (KEFU_TEST_BACKEND); each pass with a throw-away
# PostgreSQL server (scripts/engines.sh). Left out of the second pass, as
# SQLite's own: the delivery test that holds SQLite's write lock from a second
# connection, tests/crash.rs (SQLite's file across SIGKILL) and tests/assets.rs
# (no database).
unit: setup-engines
	scripts/engines.sh run -- cargo test --features ssr
	cargo test -p kefu-bench
	KEFU_TEST_BACKEND=postgres scripts/engines.sh run -- \
	  cargo test --features ssr --test ws_chat --test delivery --test security --test fuzz_frames \
	    --test privacy --test retention --test reports --test webhooks --test accounts \
	    --test archive --test canned --test identity --test notes --test seen --test status \
	    --test transfer --test typing --test visits --test pages --test ops -- \
	  --skip a_storage_error_reaches_the_sender_and_a_retry_succeeds_once

e2e: setup-test build
	cd end2end && { npx playwright test || { node scripts/failures.mjs; exit 1; }; }

test: setup-test lint unit e2e

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/test-results

# Renews docs/screenshot.png (the README's picture) from a real session.
screenshot: setup-test build
	cd end2end && npx playwright test --config playwright.docs.config.ts

# Load, latency, memory and asset-size benchmarks of the release build against
# a bare relay (bench/README.md; the harness is the workspace member bench/),
# on SQLite; then chat and maxrate again with kefu on PostgreSQL (a throw-away
# server with durable commits, on the servers' core), and the cluster scenario
# on that server and a throw-away Redis, with one node and with three (CPU per
# message of every process, same-node against cross-node latency).
# BENCH_ARGS=--full for the goal-sized runs.
bench: setup-engines build
	LEPTOS_OUTPUT_NAME=kefu cargo build --release -p kefu-bench
	ulimit -n 1048576 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	echo "bench: open-files limit $$(ulimit -n)"; \
	./target/release/kefu-bench --out bench/results $(BENCH_ARGS) && \
	KEFU_ENGINES_DURABLE=1 KEFU_ENGINES_CORE=0 scripts/engines.sh run -- bash -c \
	  './target/release/kefu-bench --postgres "$$KEFU_TEST_POSTGRES" --out bench/results $(BENCH_ARGS) --only chat,maxrate --no-relay && \
	   for nodes in 1 3; do \
	     ./target/release/kefu-bench --postgres "$$KEFU_TEST_POSTGRES" --redis "$$KEFU_TEST_REDIS" --nodes $$nodes \
	       --out bench/results $(BENCH_ARGS) --only cluster || exit 1; \
	   done'
