#!/usr/bin/env bash
# Create a CPU-only Ludwig venv from a pinned lock file.
#
# Usage: envs/install_ludwig.sh VERSION VENV_DIR
#   VERSION   a Ludwig version with a lock file here, e.g. 0.11.0 or 0.9.1
#   VENV_DIR  the venv to create (skipped when it already imports that Ludwig version)
#
# Environment: PYTHON (default python3.11) is the interpreter the venv is made from.
# See envs/README.md for why the install uses --no-deps and import stand-ins.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 VERSION VENV_DIR" >&2
    exit 2
fi

version="$1"
venv_dir="$2"
envs_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock_file="$envs_dir/ludwig-$version.lock.txt"
base_python="${PYTHON:-python3.11}"

if [[ ! -f "$lock_file" ]]; then
    echo "error: no lock file for Ludwig $version: $lock_file not found" >&2
    exit 1
fi

venv_python="$venv_dir/bin/python"

# Print the installed Ludwig version, or nothing when the import fails.
installed_ludwig_version() {
    NLTK_DATA="$envs_dir/nltk_data" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
        "$venv_python" -c "from ludwig.api import LudwigModel; import ludwig; print(ludwig.__version__)" \
        2>/dev/null | tail -n 1 || true
}

if [[ -x "$venv_python" && "$(installed_ludwig_version)" == "$version" ]]; then
    echo "Ludwig $version already imports in $venv_dir; nothing to do."
    exit 0
fi

start_seconds=$SECONDS

echo "== creating venv $venv_dir with $base_python"
"$base_python" -m venv "$venv_dir"

echo "== installing $lock_file (--no-deps)"
"$venv_python" -m pip install --quiet --no-deps -r "$lock_file"

echo "== writing torchvision/torchaudio/torchtext import stand-ins"
"$venv_python" "$envs_dir/make_stubs.py" "$venv_python"

# Ludwig <= 0.10.4 imports bitsandbytes (schema/optimizers.py) and tifffile (utils/image_utils.py)
# at module level, and 0.8.6 to 0.9.x need nltk for the ROUGE text metrics. The older locks pin
# them already, so this loop only installs what a lock lacks.
if [[ "$version" != 0.11.* ]]; then
    for requirement in "bitsandbytes<0.41" "tifffile" "nltk"; do
        distribution="${requirement%%<*}"
        if ! "$venv_python" -m pip show --quiet "$distribution" >/dev/null 2>&1; then
            echo "== installing $requirement (--no-deps)"
            "$venv_python" -m pip install --quiet --no-deps "$requirement"
        fi
    done
fi

echo "== checking the import"
found_version="$(installed_ludwig_version)"
if [[ "$found_version" != "$version" ]]; then
    echo "error: 'from ludwig.api import LudwigModel' failed in $venv_dir (found version: '${found_version:-none}')" >&2
    NLTK_DATA="$envs_dir/nltk_data" "$venv_python" -c "from ludwig.api import LudwigModel" || true
    exit 1
fi

echo "Ludwig $version installed in $venv_dir in $((SECONDS - start_seconds)) s."
