#!/usr/bin/env bash
# Production deploy: scripts/deploy.sh prod REGION with deletion protection on the tables, and the change set shown
# before it is executed (and confirmed, in a terminal). The prod stack creates the account's budget.
#   GITHUB_REPOSITORY=OWNER/REPO scripts/deploy-prod.sh REGION
# In GitHub Actions no prompt is shown: deploy.yml runs it twice, with CHANGE_SET_ONLY=true to plan and with
# EXECUTE_CHANGE_SET=<that change set> to execute, each job approved by the prod environment's reviewers.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=deploy-lib.sh
source "$SCRIPT_DIR/deploy-lib.sh"

[[ $# -eq 1 ]] || die "usage: GITHUB_REPOSITORY=OWNER/REPO $0 REGION"

confirm=false
if [[ -t 0 && -z "${GITHUB_ACTIONS:-}" ]]; then
  confirm=true
fi

DELETION_PROTECTION=true CONFIRM_CHANGE_SET="$confirm" exec "$SCRIPT_DIR/deploy.sh" prod "$1"
