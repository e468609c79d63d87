# The two commands: `make demo` (the main job) and `make test` (the lint, the type check, then every test; CI runs it).
# `make check`: the fast tier for the edit-test loop (the lint, the type check, unit tests, sweeps over one seed, no
# notebooks).
# Both set the machine up first when needed: Debian packages, .venv, pinned Python packages.
# Also: `make bench`, `make release`, `make student-bundle [ASSIGNMENT=name]` (the zips students download, in dist/).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := dataset-fashion-mnist bubblewrap chromium apparmor fonts-noto-cjk

.PHONY: demo test check bench release student-bundle setup system clean

demo: setup
	$(PY) -m autograder demo

test: setup
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -n 2 --dist loadgroup

check: setup
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -n 2 --dist loadgroup --quick -m "not slow"

bench: setup
	$(PY) -m benchmarks

release: setup
	$(PY) -m autograder release

# dist/<name>-student.zip for ASSIGNMENT=<name>, or for every assignment: what students download (release notebooks,
# helpers, environment.yml, requirements.txt, README.md), no solutions or hidden tests.
student-bundle: setup
	$(PY) -m autograder bundle $(ASSIGNMENT) --out dist

setup: system $(STAMP)

# Debian packages, installed only where apt-get exists and one of them is missing.
system:
	@if command -v apt-get >/dev/null 2>&1 && ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		echo "Installing Debian packages: $(APT_PACKAGES)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PACKAGES); \
	fi

# Reinstalls only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache gradebook.db submitted autograded feedback demo-output
