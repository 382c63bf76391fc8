#!/usr/bin/env bash
# Rewrite hack/constraints.txt: the exact versions pip resolves today for Augur with its dev tools
# (`.[dev]`, statsforecast included), every transitive dependency too. hack/setup.sh installs with these
# constraints, so a cold build (CI, a new checkout) gets the versions the suite last passed with instead of
# whatever was released since; tests/unit/test_constraints.py fails when pyproject.toml names a dependency
# the file does not pin, or pins outside pyproject.toml's range. Run it after changing pyproject.toml's
# dependencies or to take newer releases, then `make test`, and commit both files.
set -euo pipefail
cd "$(dirname "$0")/.."
report=$(mktemp)
trap 'rm -f "$report"' EXIT
.venv/bin/python -m pip install -q --dry-run --ignore-installed --report "$report" -e '.[dev]'
.venv/bin/python - "$report" >hack/constraints.txt <<'PY'
import json
import sys

report = json.load(open(sys.argv[1]))
pins = sorted(
    (i["metadata"]["name"].lower().replace("_", "-"), i["metadata"]["version"])
    for i in report["install"]
    if not i.get("is_direct")
)
print("# Written by hack/pin-deps.sh (pip's resolution of .[dev]); hack/setup.sh installs with it. Do not edit.")
print(*(f"{name}=={version}" for name, version in pins), sep="\n")
PY
echo "hack/constraints.txt: $(grep -c '==' hack/constraints.txt) pins"
