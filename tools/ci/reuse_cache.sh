#!/usr/bin/env bash
# Let `make setup` reuse the environments a GitLab cache restored, instead of reinstalling them.
#
# Each cache is keyed on the lock files it was built from (.gitlab-ci.yml, `cache:key:files`),
# so a restored .venv or node_modules matches this checkout's locks; only its install stamps
# are older than the freshly checked-out lock files, and make would rerun `pipenv sync` and
# `npm ci` (which deletes node_modules first). Touching the stamps tells make they are current.
#
# A virtualenv names its own absolute path in its scripts' shebangs. One restored at another
# path (another runner's build directory) would half-work, so it is removed and rebuilt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$PWD"

for venv in .venv .tools/pipenv .tools/checkov; do
  [[ -e $venv/bin/pip ]] || continue
  shebang="$(head -n 1 "$venv/bin/pip")"
  if [[ $shebang != "#!$root/$venv/bin/python"* ]]; then
    echo "reuse_cache: $venv was built at another path (${shebang#\#!}); removing it so make rebuilds it"
    rm -rf "$venv"
  fi
done

# Order matters: node_modules' stamp depends on the venv's (Node comes from a wheel in it).
for stamp in .venv/.synced node_modules/.installed .tools/checkov/.installed tools/node-tools/node_modules/.installed; do
  if [[ -e $stamp ]]; then
    touch "$stamp"
    echo "reuse_cache: $stamp is current"
  fi
done
