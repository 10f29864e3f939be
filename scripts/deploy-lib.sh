#!/usr/bin/env bash
# Shared by bootstrap.sh, deploy.sh and deploy-prod.sh: checks with clear errors, tags, stack outputs.
# Sourced, not run.

STACK_NAME_PREFIX="${STACK_NAME_PREFIX:-stripe-billing}"
TAG_KEYS=(ClientOrganization BillingProject OrganizationalUnit BillingAllocationID Owner CostCenter Project)

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

log() {
  printf '==> %s\n' "$*" >&2
}

# require_tool NAME HINT: fail with an install hint when a command is missing.
require_tool() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed. $2"
}

require_environment_name() {
  case "${1:-}" in
    dev | staging | prod) ;;
    *) die "environment must be dev, staging or prod (got '${1:-}')" ;;
  esac
}

require_region() {
  [[ "${1:-}" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]$ ]] || die "region must look like eu-west-1 (got '${1:-}')"
}

# parse_environment_and_region SCRIPT ARG...: sets ENVIRONMENT and REGION from the two arguments, or explains usage.
parse_environment_and_region() {
  local script="$1"
  shift
  [[ $# -eq 2 ]] || die "usage: GITHUB_REPOSITORY=OWNER/REPO $script ENV REGION   (ENV: dev | staging | prod)"
  require_environment_name "$1"
  require_region "$2"
  # shellcheck disable=SC2034 # read by the scripts that source this file
  ENVIRONMENT="$1"
  # shellcheck disable=SC2034 # read by the scripts that source this file
  REGION="$2"
}

# require_credentials REGION: prints the account id, or explains how to get credentials.
require_credentials() {
  local account
  if ! account="$(aws sts get-caller-identity --region "$1" --query Account --output text 2>/dev/null)"; then
    die "no usable AWS credentials for region $1. Run 'aws sso login' (or export a profile / assume the deploy role) and retry."
  fi
  printf '%s' "$account"
}

# Sets GITHUB_OWNER and GITHUB_REPOSITORY_NAME from GITHUB_REPOSITORY (set by GitHub Actions; export it locally).
require_github_repository() {
  [[ "${GITHUB_REPOSITORY:-}" =~ ^[A-Za-z0-9-]+/[A-Za-z0-9_.-]+$ ]] ||
    die "GITHUB_REPOSITORY must be OWNER/REPO (got '${GITHUB_REPOSITORY:-}'). Export it, e.g. GITHUB_REPOSITORY=acme/aws-stripe-billing"
  # shellcheck disable=SC2034 # read by the scripts that source this file
  GITHUB_OWNER="${GITHUB_REPOSITORY%%/*}"
  # shellcheck disable=SC2034 # read by the scripts that source this file
  GITHUB_REPOSITORY_NAME="${GITHUB_REPOSITORY#*/}"
}

# load_tags FILE: fills TAG_ARGS with Key=Value pairs, usable both for --tags and for --parameter-overrides
# (the templates take each tag value as a parameter of the same name).
load_tags() {
  local file="$1" key value line
  declare -gA TAG_VALUES=()
  [[ -f "$file" ]] || die "tag file $file not found"
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    key="${line%%=*}"
    value="${line#*=}"
    TAG_VALUES["$key"]="$value"
  done <"$file"
  TAG_ARGS=()
  for key in "${TAG_KEYS[@]}"; do
    value="${!key:-${TAG_VALUES[$key]:-}}"
    [[ -n "$value" ]] || die "tag $key has no value: set it in $file or export $key"
    TAG_ARGS+=("$key=$value")
  done
}

# load_budget_threshold FILE: sets BUDGET_THRESHOLD from the account's budget file (scripts/account-budget.env), the
# one place the number is written; a value exported in the environment is not consulted.
load_budget_threshold() {
  local file="$1" line
  [[ -f "$file" ]] || die "budget file $file not found"
  BUDGET_THRESHOLD=''
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" == BUDGET_THRESHOLD=* ]] && BUDGET_THRESHOLD="${line#BUDGET_THRESHOLD=}"
  done <"$file"
  [[ "$BUDGET_THRESHOLD" =~ ^[1-9][0-9]*$ ]] ||
    die "BUDGET_THRESHOLD in $file must be a whole number of USD above 0, written BUDGET_THRESHOLD=<USD> (got '$BUDGET_THRESHOLD')"
}

# stack_output STACK KEY REGION: one output value of a stack, empty when missing.
stack_output() {
  local value
  value="$(aws cloudformation describe-stacks --region "$3" --stack-name "$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue | [0]" --output text 2>/dev/null)" || value=''
  [[ "$value" == None ]] && value=''
  printf '%s' "$value"
}

# require_secure_parameter NAME REGION: the SSM parameter exists and is a SecureString (its value is not read).
require_secure_parameter() {
  local type
  type="$(aws ssm describe-parameters --region "$2" --parameter-filters "Key=Name,Option=Equals,Values=$1" \
    --query 'Parameters[0].Type' --output text 2>/dev/null)" || die "could not look up SSM parameter $1 (ssm:DescribeParameters denied?)"
  case "$type" in
    SecureString) ;;
    None | '') die "SSM parameter $1 does not exist. Create it: aws ssm put-parameter --region $2 --type SecureString --name $1 --value '...'" ;;
    *) die "SSM parameter $1 is a $type; it must be a SecureString. Re-create it with --type SecureString --overwrite" ;;
  esac
}

# summary LINE...: appends Markdown to the GitHub job summary when running in Actions.
summary() {
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    printf '%s\n' "$@" >>"$GITHUB_STEP_SUMMARY"
  fi
}
