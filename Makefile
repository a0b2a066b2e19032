# Every target sets up .venv itself; see README.md.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.installed

.PHONY: run test bench lint package install-desktop uninstall-desktop sim clean

$(STAMP): pyproject.toml setup.py constraints.txt
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

# Builds dist/ucwa-phone/ (PyInstaller one-folder), then starts it on a virtual display.
package: $(STAMP)
	@packaging/system-deps.sh test
	$(PIP) install -c constraints.txt 'pyinstaller>=6.10'
	$(PY) -m PyInstaller --noconfirm packaging/ucwa-phone.spec
	packaging/smoke-bundle.sh dist/ucwa-phone/ucwa-phone

# Menu entry, icons, metainfo and tel:/callto:/sip: handler for the current user. Starts this
# checkout's .venv/bin/ucwa-phone, or PREFIX=/dir/of/bundle/ucwa-phone, or EXEC=/abs/program.
install-desktop: $(if $(EXEC)$(PREFIX),,$(STAMP))
	EXEC='$(EXEC)' PREFIX='$(PREFIX)' packaging/install-desktop.sh

uninstall-desktop:
	packaging/install-desktop.sh --uninstall

clean:
	rm -rf $(VENV) build dist
