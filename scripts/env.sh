# Shared by scripts/demo and scripts/test: a project venv with the locked dependency set.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip uv >/dev/null
# requirements.lock pins every package CI tested (uv pip compile of pyproject.toml).
uv pip install -q -c requirements.lock -e ".[${TECHMATCH_EXTRAS:-test}]"
