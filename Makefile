# FaceLink Local — the two commands:
#   make run    set everything up, then open the desktop app (or serve headless without a display)
#   make test   set everything up, then run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The environment is rebuilt whenever pyproject.toml changes.
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup run serve test bench quality package smoke clean

$(STAMP): pyproject.toml
	bash scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

run: setup
	bash scripts/run.sh $(ARGS)

serve: setup
	$(BIN)/facelink serve $(ARGS)

test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

# Every benchmark, one after another; each rewrites its own part of docs/.
bench: setup
	$(BIN)/python -m bench.bench_server
	$(BIN)/python -m bench.bench_engines
	$(BIN)/python -m bench.bench_haptics
	$(BIN)/python -m bench.bench_load
	$(BIN)/python -m bench.quality $(QUALITY_ARGS)

quality: setup
	$(BIN)/python -m bench.quality $(QUALITY_ARGS)

clean:
	rm -rf $(VENV) build dist .pytest_cache

# The packaged app (docs/packaging.md): build dist/FaceLink and its archive, then run it.
package: setup
	bash scripts/package.sh

smoke: package
	$(BIN)/python scripts/smoke_package.py
