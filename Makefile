# KIM: `make run` serves the app, `make test` runs lint and the whole suite. See README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
WORKERS ?= 2
# pytest-xdist processes for `make test` (one per core of the 2-core machine; 0 runs in-process).
# Whole modules go to one process (--dist loadfile): module fixtures such as the gunicorn/nginx
# site or the private PostgreSQL cluster start once, and the fuzz summary sees its whole module.
TEST_WORKERS ?= 2
export FLASK_APP := wsgi

.PHONY: run test bench audit lint format lock translations extract-messages chromium pdf-libs nginx java clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The exact versions (and hashes) of every package are in the lock files requirements.txt (to run)
# and requirements-dev.txt (to test and develop too); `make lock` writes them from pyproject.toml.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

# After changing the dependencies in pyproject.toml: pins that still fit are kept (add
# LOCK_ARGS=--upgrade to move every package to its newest allowed version).
LOCK := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --allow-unsafe --generate-hashes \
  --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: $(VENV)/.dev-installed
	$(LOCK) --output-file requirements.txt pyproject.toml
	$(LOCK) --extra dev --constraint requirements.txt --output-file requirements-dev.txt pyproject.toml

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

MO_FILES := $(patsubst %.po,%.mo,$(wildcard kim_app/translations/*/LC_MESSAGES/messages.po))

%.mo: %.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

translations: $(MO_FILES)

# Refresh the catalogue after changing user-facing text (then translate the new entries).
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -w 100 -o kim_app/translations/messages.pot .
	$(BIN)/pybabel update -i kim_app/translations/messages.pot -d kim_app/translations --no-fuzzy-matching --ignore-obsolete -w 100

# The job queue's worker (emails and other work kept out of requests) runs beside gunicorn and
# stops with it: Ctrl-C reaches both, and the trap ends the worker whenever gunicorn exits.
run: $(VENV)/.installed node_modules/.package-lock.json translations pdf-libs
	$(BIN)/flask kim setup
	@echo "KIM is serving on http://127.0.0.1:$(PORT)"
	$(BIN)/flask kim worker & worker=$$!; trap 'kill -INT $$worker 2>/dev/null; wait $$worker' EXIT; \
	$(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) --no-control-socket \
	  --access-logfile - --access-logformat '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms' wsgi:app

chromium:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  echo "Installing Debian's chromium and chromium-driver"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

# WeasyPrint (posters, PDFs) needs Pango, HarfBuzz's subsetter and a font from Debian.
PDF_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
pdf-libs:
	@if ! dpkg -s $(PDF_LIBS) >/dev/null 2>&1; then \
	  echo "Installing Debian's $(PDF_LIBS)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_LIBS) >/dev/null; \
	fi

# The two-app-server test (tests/test_two_servers.py) puts Debian's nginx in front of gunicorn,
# over HTTPS with a certificate it makes with the openssl command.
nginx:
	@if [ ! -x /usr/sbin/nginx ] || ! command -v openssl >/dev/null 2>&1; then \
	  echo "Installing Debian's nginx and openssl"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx openssl >/dev/null; \
	fi

# The HTML check (tests/test_html_valid.py) runs the Nu Html Checker of node_modules on Java.
java:
	@if ! command -v java >/dev/null 2>&1; then \
	  echo "Installing Debian's default-jre-headless"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	fi

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The suite on TEST_WORKERS processes, then the browser journeys in one process of their own: a
# journey that waits on scrolling and rendering must not share the cores with the heavy modules
# (a scroll check timed out once under that load). PYTEST_ARGS runs just what it names.
test: $(VENV)/.dev-installed node_modules/.package-lock.json translations chromium pdf-libs nginx java lint
ifeq ($(strip $(PYTEST_ARGS)),)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --ignore=tests/browser
	$(BIN)/pytest tests/browser
else
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)
endif

# The benchmark (issue 7; never part of `make test`): build or reuse the national (PostgreSQL
# kim_bench) and regency (SQLite) datasets, drive gunicorn with wrk, then a national event on the
# job worker (bench/bigevent.py), then the slow-3G phone run.
# Results are printed and written into docs/benchmarks.md.
bench: $(VENV)/.dev-installed node_modules/.package-lock.json translations chromium pdf-libs
	$(BIN)/python -m bench.data
	$(BIN)/python -m bench.load --dataset both
	$(BIN)/python -m bench.bigevent
	$(BIN)/python -m bench.phone

# Lighthouse mobile audits (issue 9; never part of `make test`): sign-in, registry, event, roll
# call and public registration, 3 runs each on a scratch demo database; medians printed and
# written into docs/lighthouse.md.
audit: $(VENV)/.installed node_modules/.package-lock.json translations chromium
	$(BIN)/python -m bench.lighthouse

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache tests/screenshots
