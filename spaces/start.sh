#!/bin/sh
# The Space's entry point: keep all state on persistent storage (/data) when the Space has it, then serve
# on all interfaces. The studio refuses to start there without sign-in (Hugging Face OAuth on a Space).
set -eu
if [ -z "${STUDIO_HOME:-}" ]; then
  if [ -d /data ] && [ -w /data ]; then STUDIO_HOME=/data/studio; else STUDIO_HOME="$PWD/workspace"; fi
fi
export STUDIO_HOME
export HF_HOME="${HF_HOME:-$STUDIO_HOME/cache/huggingface}"  # every download persists with the rest
exec .venv/bin/python -m studio serve --host 0.0.0.0 --port "${PORT:-7860}"
