# The interface: `make run`, `make test`, `make bench`, `make lint`, `make i18n`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed
# Debian packages: a CJK font for PDFs, Chromium for browser tests, poppler for PDF checks.
# redis-server: the rate limits' count shared by several workers (`make run` starts it;
# tests/security/test_ratelimits.py);
# postgresql-client: pg_dump and pg_restore for `flask backup` / `flask restore`.
DEB_PACKAGES := fonts-noto-cjk chromium poppler-utils redis-server postgresql-client
HOST ?= 127.0.0.1
PORT ?= 5000
# The address printed in links and QR codes follows HOST and PORT. To serve phones on the local
# network: `make run HOST=0.0.0.0` (the machine's first LAN address is then printed), or name the
# address the phones reach: `make run HOST=0.0.0.0 PRO_BASE_URL=http://192.168.1.20:5000`.
LINK_HOST := $(if $(filter 0.0.0.0,$(HOST)),$(shell hostname -I 2>/dev/null | cut -d' ' -f1),$(HOST))
PRO_BASE_URL ?= http://$(if $(LINK_HOST),$(LINK_HOST),127.0.0.1):$(PORT)
export PRO_BASE_URL
# Empty: pro_app/cli/serve.py's defaults (two worker processes per core, one thread each).
WORKERS ?=
THREADS ?=
PDF_WORKERS ?= 1

.PHONY: run test test-soak redis bench lint i18n system-deps translations static migrate demo pdf-font pdf-setup serve clean

run: system-deps $(STAMP) translations static migrate demo pdf-setup serve

test: system-deps redis $(STAMP) translations static pdf-font
	$(PY) -m pytest $(PYTEST_ARGS)

# The long runs (not part of `make test`): 10 SIGKILLs of gunicorn under 30 patients on each
# database, and the fuzzing at its soak profile. Figures: bench/results/soak-*.json.
test-soak: system-deps redis $(STAMP) translations static pdf-font
	PRO_FUZZ_PROFILE=soak $(PY) -m pytest -m "soak or not soak" tests/security/test_soak.py \
	  tests/security/test_fuzz.py $(PYTEST_ARGS)

# A local redis-server, started when none answers: the rate limits' shared count for `make run`'s
# workers (pro_app/cli/serve.py) and for the rate-limit tests.
redis:
	@if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 \
	  && command -v redis-server >/dev/null; then \
	  redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no --daemonize yes >/dev/null; \
	fi

bench: system-deps redis $(STAMP) translations static pdf-font
	$(PY) -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# Installs what is missing; on a laptop without root it says what to install instead.
system-deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then echo "Please install: $$missing (and a CJK font)"; \
	  elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

translations: $(STAMP)
	$(VENV)/bin/pybabel -q compile -d translations

i18n: $(STAMP)
	$(VENV)/bin/pybabel -q extract -F translations/babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --no-location --sort-output \
	  --project=PRIME-PRO --copyright-holder="PRIME-PRO" -o translations/messages.pot pro_app templates
	$(VENV)/bin/pybabel -q update -N --width=100 -i translations/messages.pot -d translations
	$(PY) translations/fill_english.py
	$(VENV)/bin/pybabel -q update -N --width=100 -i translations/messages.pot -d translations
	$(VENV)/bin/pybabel -q compile -d translations

# Hashed, compressed (gzip, Brotli) copies of pro_app/static/ that WhiteNoise serves; the app
# refuses to start without a current build (pro_app/web/static_files.py).
static: $(STAMP)
	$(PY) -m pro_app.web.static_files

migrate: $(STAMP)
	$(FLASK) db upgrade

demo: $(STAMP)
	$(FLASK) demo

# The PDF font: a compact subset of the installed Noto Sans CJK SC (see pro_app/pdf/fonts.py).
pdf-font: system-deps $(STAMP)
	@echo "PDF font: checking the Chinese font subset (a first build takes about 20 s)..."
	$(PY) -m pro_app.pdf.fonts

# The font, and a self-signed demo signing certificate under instance/ when none is configured.
pdf-setup: pdf-font
	$(FLASK) pdf setup

# gunicorn and separate PDF worker process(es): one command starts both, Ctrl-C stops both.
serve: redis $(STAMP)
	$(PY) -m pro_app.cli.serve --bind $(HOST):$(PORT) --pdf-workers $(PDF_WORKERS) \
	  $(if $(WORKERS),--workers $(WORKERS)) $(if $(THREADS),--threads $(THREADS))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache pro_app/static_build
