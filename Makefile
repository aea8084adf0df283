# The two commands of the README. Both work on a fresh Debian machine with Python 3.11.
VENV   ?= .venv
PY     := $(VENV)/bin/python
DEMO_OUT ?= demo_out

.PHONY: demo test lint bench clean

demo:
	./scripts/setup_venv.sh local
	$(PY) -m sqlsynth.cli demo --out $(DEMO_OUT)

test:
	./scripts/install_servers.sh
	./scripts/install_browser.sh
	./scripts/setup_venv.sh local,test,ray,pandas
	$(PY) -m pytest -q --timeout 600

lint:
	$(VENV)/bin/ruff check sqlsynth tests bench

bench:
	$(PY) bench/pipeline.py --latency 0 --num 30
	$(PY) bench/pipeline.py --latency 0.2 --num 30

clean:
	rm -rf $(VENV) $(DEMO_OUT) cache .sqlsynth
