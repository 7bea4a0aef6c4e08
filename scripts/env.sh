# Shared by scripts/demo and scripts/test: a project venv with the locked dependency set.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
# This checkout's code first, also when .venv is shared with another checkout.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
if [ "${TECHMATCH_NO_INSTALL:-}" = 1 ]; then
  return 0 2>/dev/null || exit 0  # use .venv as it is (it already holds requirements.lock)
fi
python -m pip install -q --upgrade pip uv >/dev/null
# requirements.lock pins every package CI tested (uv pip compile of pyproject.toml).
uv pip install -q -c requirements.lock -e ".[${TECHMATCH_EXTRAS:-test}]"
