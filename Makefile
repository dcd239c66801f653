# 상담 관리자센터 — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test lint format migrations-check messages lock smoke bench bench-webhook bench-console bench-stats bench-live bench-upload clean

# Created on demand with the first Python >= 3.12 found (scripts/find-python).
$(PY):
	python="$$(scripts/find-python)" && "$$python" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

## run: install, migrate, seed the demo center (idempotent), start web + worker + beat
run: $(VENV)/.runtime
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --no-input -v0
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(PY) manage.py serve --port $(PORT)

## test: the whole suite (SQLite by default; DATABASE_URL/REDIS_URL point it elsewhere)
test: $(VENV)/.dev
	$(PY) -m pytest $(PYTEST_ARGS)

## lint: ruff (its security rules S included), ruff's format check, and bandit over the product's code (docs/security.md)
lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m bandit -c pyproject.toml -r . -q

format: $(VENV)/.dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

migrations-check: $(VENV)/.dev
	$(PY) manage.py makemigrations --check --dry-run

## lock: compile requirements.in (what the product imports) into requirements.txt, every dependency pinned
lock: $(VENV)/.dev
	$(PY) -m piptools compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.txt requirements.in

## smoke: the production set-up of docs/operations.md from a fresh venv, on the local PostgreSQL and Redis
smoke:
	"$$(scripts/find-python)" scripts/smoke_production.py $(SMOKE_ARGS)

## messages: refresh the Korean catalogue from the code, then compile it
messages: $(VENV)/.dev
	$(PY) manage.py makemessages -l ko --no-obsolete --ignore '.venv/*' --ignore 'var/*'
	$(PY) manage.py compilemessages -l ko --ignore '.venv/*'

## bench: every benchmark (console, webhook, live) on the local PostgreSQL and Redis, then one screen of goals met or missed (bench/README.md)
bench: $(VENV)/.runtime
	$(PY) bench/run_all.py $(BENCH_ALL_ARGS)

## bench-webhook: load test of the channel webhook against a bare Django view, on the local PostgreSQL (bench/README.md)
bench-webhook: $(VENV)/.runtime
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/counsel_bench} \
		$(PY) bench/webhook_bench.py $(BENCH_ARGS)

## bench-console: the console's list and chat pane on 100,000 consultations against a bare 50-row view (bench/README.md)
bench-console: $(VENV)/.runtime
	DATABASE_URL=$${BENCH_CONSOLE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/counsel_console_bench} \
		$(PY) bench/console_data.py $(BENCH_DATA_ARGS)
	DATABASE_URL=$${BENCH_CONSOLE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/counsel_console_bench} \
		$(PY) bench/console_bench.py $(BENCH_ARGS)

## bench-stats: the statistics on the console benchmark's data: one day's rollup, 92 days rebuilt, the 통계 page and CSV against the bare view (bench/README.md)
bench-stats: $(VENV)/.runtime
	DATABASE_URL=$${BENCH_CONSOLE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/counsel_console_bench} \
		$(PY) bench/console_data.py $(BENCH_DATA_ARGS)
	DATABASE_URL=$${BENCH_CONSOLE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/counsel_console_bench} \
		$(PY) bench/stats_bench.py $(BENCH_ARGS)

## bench-live: live-update latency (webhook → SSE, 20 clients) with Redis and polling, and the cost of 200 idle streams (bench/README.md)
bench-live: $(VENV)/.runtime
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/counsel_bench} \
	REDIS_URL=$${BENCH_REDIS_URL-redis://127.0.0.1:6379/0} \
		$(PY) bench/live_bench.py $(BENCH_ARGS)

## bench-upload: a 300 MiB file through the webhook under gunicorn: the worker's peak RSS, and the time against copying the bytes to a file (bench/README.md)
bench-upload: $(VENV)/.runtime
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/counsel_bench} \
		$(PY) bench/upload_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/test-db.sqlite3 .pytest_cache .ruff_cache
