# Text2SQL LoRA Studio. Every target sets up what it needs, idempotently (a second run is a no-op).
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: run test bench envs model lock clean-envs

envs:
	@scripts/ensure_env.sh app
	@scripts/ensure_env.sh autotrain

# The offline default model (SmolLM2-135M-Instruct), converted once into STUDIO_HOME/models/.
model: envs
	@$(PY) -m studio models prepare

run: model
	$(PY) -m studio serve --host $(HOST) --port $(PORT)

# The browser test (tests/e2e) drives Debian's Chromium, installed through apt when missing; under make it
# fails rather than skips without one.
test: envs
	@scripts/ensure_chromium.sh
	STUDIO_BROWSER_TESTS=required $(PY) -m pytest -q tests

bench: model
	$(PY) -m benchmarks

# Re-resolve the app environment's direct dependencies (requirements.in) into the lock (requirements.txt).
lock:
	python3 -m venv /tmp/studio-lock && /tmp/studio-lock/bin/pip install -q torch==2.13.0 -r requirements.in
	{ head -2 requirements.txt; /tmp/studio-lock/bin/pip freeze | grep -v '^torch=='; } > requirements.txt.new
	mv requirements.txt.new requirements.txt && rm -rf /tmp/studio-lock

clean-envs:
	rm -f .venv .venv-autotrain
