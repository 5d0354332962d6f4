# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run   - install, migrate, demo users, web + Celery worker + beat on http://127.0.0.1:8000
#   make test  - install, run the checks (make check: ruff, mypy, import layers) and the whole suite
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PORT ?= 8000
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

NODE_DIR := tests/browser/node

.PHONY: run test check install browser-deps messages clean test-oidc-provider

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

# What the browser tests put into pages (axe-core), from the npm registry as locked in
# package-lock.json; nothing is fetched again while the installed copy matches the lock.
# Without npm the accessibility tests are skipped and say so (CI installs it and requires them).
$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm is missing: the accessibility tests (axe-core) will be skipped"; fi

browser-deps: $(NODE_DIR)/node_modules/.package-lock.json

run: install
	DEBUG=$${DEBUG:-0} DEMO_MODE=$${DEMO_MODE:-1} $(VENV)/bin/python manage.py run_embedded --port $(PORT)

test: install check test-oidc-provider browser-deps
	./bin/test

# The OpenID Connect provider the sign-in test runs (oidc-provider from the npm registry,
# exactly as tests/oidc/package-lock.json says). Without npm the test is skipped and says so.
OIDC_PROVIDER := tests/oidc/node_modules/.installed
$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm is missing: the OIDC sign-in test will be skipped"; fi

test-oidc-provider: $(OIDC_PROVIDER)

# The habits the suite does not test: lint, types and the layers between apps.
check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

messages: install
	DEBUG=1 $(VENV)/bin/python manage.py makemessages -l en --ignore=.venv --ignore=.tools --ignore=.data
	DEBUG=1 $(VENV)/bin/python manage.py compilemessages --ignore=.venv --ignore=.tools --ignore=.data

clean:
	rm -rf $(VENV) $(TOOLS) .data .pytest_cache $(NODE_DIR)/node_modules tests/oidc/node_modules
