# Every target sets up .venv itself; see README.md.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.installed

.PHONY: run test bench lint package sim clean

$(STAMP): pyproject.toml constraints.txt
	@packaging/system-deps.sh run
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt -e '.[test,dev]'
	@touch $@

run: $(STAMP)
	$(PY) -m app $(ARGS)

sim: $(STAMP)
	$(PY) -m app sim $(ARGS)

test: $(STAMP)
	@packaging/system-deps.sh test
	PYTHON=$(PY) tests/run.sh $(ARGS)

bench: $(STAMP)
	$(PY) -m bench $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check app tests bench
	$(PY) -m ruff format --check app tests bench
	$(PY) -m mypy

package: $(STAMP)
	$(PIP) install -c constraints.txt 'pyinstaller>=6.10'
	$(PY) -m PyInstaller --noconfirm packaging/ucwa-phone.spec

clean:
	rm -rf $(VENV) build dist
