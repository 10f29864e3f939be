#!/usr/bin/env bash
# Deploys infrastructure.yaml as <prefix>-ENV:
#   GITHUB_REPOSITORY=OWNER/REPO scripts/deploy.sh ENV REGION
# Pre-deploy checks (tools, credentials, cfn-lint, validate-template, the Stripe SecureString parameters), build and
# upload of the Lambda zip (its S3 version id goes into the change set), a change set through
# `aws cloudformation deploy` that is shown before it is executed, the stack outputs, and a smoke test (an unsigned
# POST to the webhook must answer 400). The budget threshold comes from scripts/account-budget.env only.
#
# Settings (environment variables):
#   MONITORING            basic (default: no custom metrics, 3 alarms) or full (custom metrics, 6 alarms)
#   ACCOUNT_BUDGET        auto (default: the prod stack creates the account's budget), true or false
#   DELETION_PROTECTION   true to protect the tables outside prod (default false; prod always protects)
#   LAMBDA_ZIP            a Lambda zip built beforehand (deploy.yml's build job) instead of building here; needs
#   LAMBDA_ZIP_SHA256     its SHA-256, checked before the upload
#   SKIP_CFN_LINT         true when the template was linted beforehand (deploy.yml lints in its build job, which
#                         holds no AWS credentials)
#   CONFIRM_CHANGE_SET    true to ask before executing the change set (default false; deploy-prod.sh sets it
#                         when run in a terminal)
#   CHANGE_SET_ONLY       true to create and show the change set and stop; its ARN becomes the step output
#                         change-set (deploy.yml's prod-plan job)
#   EXECUTE_CHANGE_SET    ARN of a change set created earlier to execute instead of creating one, or "none" when
#                         that plan had nothing to change (deploy.yml's prod job, after the reviewers read the plan)
#   WEBHOOK_SECRET_PARAMETER, STRIPE_SECRET_KEY_PARAMETER  SSM names (default /stripe/ENV/webhook-secret and
#                         /stripe/ENV/secret-key); any other name must stay under /stripe/ENV/
#   ALERT_EMAIL, LOG_RETENTION_DAYS, STACK_NAME_PREFIX, TAGS_FILE (default scripts/stack-tags.env), BUDGET_FILE
#   (default scripts/account-budget.env), GITHUB_REPOSITORY_OWNER_ID / GITHUB_REPOSITORY_ID (set by Actions)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=deploy-lib.sh
source "$SCRIPT_DIR/deploy-lib.sh"

parse_environment_and_region "$0" "$@"

load_budget_threshold "${BUDGET_FILE:-$SCRIPT_DIR/account-budget.env}"
MONITORING="${MONITORING:-basic}"
ACCOUNT_BUDGET="${ACCOUNT_BUDGET:-auto}"
DELETION_PROTECTION="${DELETION_PROTECTION:-false}"
CONFIRM_CHANGE_SET="${CONFIRM_CHANGE_SET:-false}"
CHANGE_SET_ONLY="${CHANGE_SET_ONLY:-false}"
EXECUTE_CHANGE_SET="${EXECUTE_CHANGE_SET:-}"
LAMBDA_ZIP="${LAMBDA_ZIP:-}"
LAMBDA_ZIP_SHA256="${LAMBDA_ZIP_SHA256:-}"
SKIP_CFN_LINT="${SKIP_CFN_LINT:-false}"
WEBHOOK_SECRET_PARAMETER="${WEBHOOK_SECRET_PARAMETER:-/stripe/$ENVIRONMENT/webhook-secret}"
STRIPE_SECRET_KEY_PARAMETER="${STRIPE_SECRET_KEY_PARAMETER:-/stripe/$ENVIRONMENT/secret-key}"
LOG_RETENTION_DAYS="${LOG_RETENTION_DAYS:-30}"
[[ "$MONITORING" == basic || "$MONITORING" == full ]] || die "MONITORING must be basic or full (got '$MONITORING')"
[[ "$ACCOUNT_BUDGET" =~ ^(auto|true|false)$ ]] || die "ACCOUNT_BUDGET must be auto, true or false (got '$ACCOUNT_BUDGET')"
[[ "$DELETION_PROTECTION" == true || "$DELETION_PROTECTION" == false ]] || die "DELETION_PROTECTION must be true or false"
[[ "$SKIP_CFN_LINT" == true || "$SKIP_CFN_LINT" == false ]] || die "SKIP_CFN_LINT must be true or false (got '$SKIP_CFN_LINT')"
# The permissions boundary admits only /stripe/ENV/*: a name elsewhere would deploy a role that cannot read it.
for setting in WEBHOOK_SECRET_PARAMETER STRIPE_SECRET_KEY_PARAMETER; do
  [[ "${!setting}" =~ ^/stripe/$ENVIRONMENT/[A-Za-z0-9_.-]+$ ]] ||
    die "$setting must be an SSM name under /stripe/$ENVIRONMENT/, such as /stripe/$ENVIRONMENT/secret-key (got '${!setting}')"
done
if [[ -n "$LAMBDA_ZIP" ]]; then
  [[ -f "$LAMBDA_ZIP" ]] || die "LAMBDA_ZIP $LAMBDA_ZIP does not exist"
  [[ "$LAMBDA_ZIP_SHA256" =~ ^[0-9a-f]{64}$ ]] ||
    die "LAMBDA_ZIP_SHA256 must be the 64 hex digits of the zip's SHA-256 (got '$LAMBDA_ZIP_SHA256')"
fi
[[ "$CHANGE_SET_ONLY" == true || "$CHANGE_SET_ONLY" == false ]] || die "CHANGE_SET_ONLY must be true or false"
[[ "$CHANGE_SET_ONLY" == false || -z "$EXECUTE_CHANGE_SET" ]] || die "set CHANGE_SET_ONLY or EXECUTE_CHANGE_SET, not both"
[[ -z "$EXECUTE_CHANGE_SET" || "$EXECUTE_CHANGE_SET" == none || "$EXECUTE_CHANGE_SET" =~ ^arn:aws[a-z-]*:cloudformation:[^:]+:[0-9]{12}:changeSet/ ]] ||
  die "EXECUTE_CHANGE_SET must be a change set ARN (arn:aws:cloudformation:REGION:ACCOUNT:changeSet/NAME/ID) or none (got '$EXECUTE_CHANGE_SET')"

STACK="$STACK_NAME_PREFIX-$ENVIRONMENT"
BOOTSTRAP_STACK="$STACK_NAME_PREFIX-bootstrap-$ENVIRONMENT"
TEMPLATE="$ROOT/infrastructure.yaml"

# ------------------------------------------------------------------ pre-deploy checks
require_tool aws "Install AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
# Only a deploy that builds the Lambda needs Node and npm; the prod execution job of deploy.yml has neither.
if [[ -z "$LAMBDA_ZIP" && -z "$EXECUTE_CHANGE_SET" ]]; then
  require_tool node "Install Node.js 24 (https://nodejs.org) and run npm ci."
  require_tool zip "Install it with: sudo apt-get install -y zip"
  [[ -d "$ROOT/node_modules" ]] || die "node_modules is missing: run npm ci in $ROOT first"
fi
[[ "$SKIP_CFN_LINT" == true ]] || require_tool cfn-lint "Install it with: pip install cfn-lint"
require_tool curl "Install it with: sudo apt-get install -y curl"
require_tool sha256sum "Install GNU coreutils."
require_github_repository
load_tags "${TAGS_FILE:-$SCRIPT_DIR/stack-tags.env}"
ACCOUNT="$(require_credentials "$REGION")"
log "deploying $STACK to account $ACCOUNT in $REGION"

if [[ "$SKIP_CFN_LINT" == false ]]; then
  log "cfn-lint"
  cfn-lint "$TEMPLATE" || die "cfn-lint found problems in infrastructure.yaml"
fi

BUCKET="$(stack_output "$BOOTSTRAP_STACK" ArtifactsBucketName "$REGION")"
EXECUTION_ROLE="$(stack_output "$BOOTSTRAP_STACK" ExecutionRoleArn "$REGION")"
BOUNDARY="$(stack_output "$BOOTSTRAP_STACK" PermissionsBoundaryArn "$REGION")"
[[ -n "$BUCKET" && -n "$EXECUTION_ROLE" && -n "$BOUNDARY" ]] ||
  die "stack $BOOTSTRAP_STACK (or its outputs) not found in $REGION: run scripts/bootstrap.sh $ENVIRONMENT $REGION first"

log "SSM parameters"
require_secure_parameter "$WEBHOOK_SECRET_PARAMETER" "$REGION"
require_secure_parameter "$STRIPE_SECRET_KEY_PARAMETER" "$REGION"

# ------------------------------------------------------------------ change set
stack_status="$(aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
  --query 'Stacks[0].StackStatus' --output text 2>/dev/null || echo NONE)"
case "$stack_status" in
  NONE | REVIEW_IN_PROGRESS) wait_for=stack-create-complete ;;
  *_IN_PROGRESS) die "stack $STACK is $stack_status; wait for it to finish and retry" ;;
  ROLLBACK_COMPLETE) die "stack $STACK is ROLLBACK_COMPLETE (its creation failed): delete it, then retry" ;;
  *) wait_for=stack-update-complete ;;
esac

# lambda_zip: sets ZIP and ARTIFACT_KEY, from LAMBDA_ZIP (checked against its digest) or from a fresh build.
# Content-addressed key: the same code gives the same key, so CloudFormation only updates the function on a change.
lambda_zip() {
  if [[ -n "$LAMBDA_ZIP" ]]; then
    local digest
    digest="$(sha256sum "$LAMBDA_ZIP" | cut -d' ' -f1)"
    [[ "$digest" == "$LAMBDA_ZIP_SHA256" ]] ||
      die "LAMBDA_ZIP $LAMBDA_ZIP has SHA-256 $digest, not the LAMBDA_ZIP_SHA256 $LAMBDA_ZIP_SHA256 it was built with: not deploying it"
    ZIP="$LAMBDA_ZIP"
    ARTIFACT_KEY="lambda/billing-handler-${digest:0:16}.zip"
    return
  fi
  log "building the Lambda"
  (cd "$ROOT" && node scripts/build.mjs lambda)
  BUNDLE_DIR="$ROOT/lambda/billing-handler/dist"
  [[ -f "$BUNDLE_DIR/handler.cjs" ]] || die "build did not produce $BUNDLE_DIR/handler.cjs"
  CODE_HASH="$(cat "$BUNDLE_DIR"/* | sha256sum | cut -c1-16)"
  ARTIFACT_KEY="lambda/billing-handler-$CODE_HASH.zip"
  ZIP_DIR="$(mktemp -d)"
  trap 'rm -rf "$ZIP_DIR"' EXIT
  ZIP="$ZIP_DIR/billing-handler.zip"
  (cd "$BUNDLE_DIR" && zip -q -X -r "$ZIP" .)
}

# create_change_set: uploads the Lambda (pinned by its S3 version id) and the template, then creates the change set
# (sets change_set, empty when there is nothing to change).
create_change_set() {
  lambda_zip
  log "uploading s3://$BUCKET/$ARTIFACT_KEY"
  ARTIFACT_VERSION="$(aws s3api put-object --region "$REGION" --bucket "$BUCKET" --key "$ARTIFACT_KEY" --body "$ZIP" \
    --query VersionId --output text)" || die "upload of s3://$BUCKET/$ARTIFACT_KEY failed"
  [[ -n "$ARTIFACT_VERSION" && "$ARTIFACT_VERSION" != None && "$ARTIFACT_VERSION" != null ]] ||
    die "s3://$BUCKET has no versioning (the upload returned no version id): re-run scripts/bootstrap.sh $ENVIRONMENT $REGION"
  log "Lambda code: s3://$BUCKET/$ARTIFACT_KEY version $ARTIFACT_VERSION"

  TEMPLATE_KEY="templates/$STACK-$(sha256sum "$TEMPLATE" | cut -c1-16).yaml"
  aws s3 cp --region "$REGION" --only-show-errors "$TEMPLATE" "s3://$BUCKET/$TEMPLATE_KEY"
  log "validate-template"
  aws cloudformation validate-template --region "$REGION" \
    --template-url "https://$BUCKET.s3.$REGION.amazonaws.com/$TEMPLATE_KEY" >/dev/null ||
    die "CloudFormation rejected infrastructure.yaml (see above)"

  parameters=(
    "Environment=$ENVIRONMENT"
    "DeletionProtection=$DELETION_PROTECTION"
    "LogRetentionDays=$LOG_RETENTION_DAYS"
    "ArtifactBucket=$BUCKET"
    "ArtifactKey=$ARTIFACT_KEY"
    "ArtifactObjectVersion=$ARTIFACT_VERSION"
    "Monitoring=$MONITORING"
    "AccountBudget=$ACCOUNT_BUDGET"
    "WebhookSecretParameter=$WEBHOOK_SECRET_PARAMETER"
    "StripeSecretKeyParameter=$STRIPE_SECRET_KEY_PARAMETER"
    "BudgetThreshold=$BUDGET_THRESHOLD"
    "AlertEmail=${ALERT_EMAIL:-}"
    "GitHubOwner=$GITHUB_OWNER"
    "GitHubRepository=$GITHUB_REPOSITORY_NAME"
    "GitHubOwnerId=${GITHUB_REPOSITORY_OWNER_ID:-}"
    "GitHubRepositoryId=${GITHUB_REPOSITORY_ID:-}"
    "PermissionsBoundaryArn=$BOUNDARY"
    "${TAG_ARGS[@]}"
  )

  log "creating the change set"
  deploy_output="$(aws cloudformation deploy \
    --region "$REGION" \
    --stack-name "$STACK" \
    --template-file "$TEMPLATE" \
    --s3-bucket "$BUCKET" --s3-prefix templates \
    --role-arn "$EXECUTION_ROLE" \
    --capabilities CAPABILITY_IAM \
    --no-execute-changeset \
    --no-fail-on-empty-changeset \
    --parameter-overrides "${parameters[@]}" \
    --tags "${TAG_ARGS[@]}" 2>&1)" || die "aws cloudformation deploy failed: $deploy_output"
  printf '%s\n' "$deploy_output" >&2
  change_set="$(grep -oE 'arn:aws[a-z-]*:cloudformation:[^ ]+:changeSet/[^ ]+' <<<"$deploy_output" | head -n1 || true)"
}

# use_change_set ARN: the change set a plan created, checked to be this stack's and still ready to execute.
use_change_set() {
  change_set=""
  [[ "$1" == none ]] && return
  local state
  state="$(aws cloudformation describe-change-set --region "$REGION" --change-set-name "$1" \
    --query '[StackName,Status,ExecutionStatus]' --output text 2>/dev/null)" ||
    die "change set $1 was not found (executing another change set deletes it): run the plan again"
  [[ "$state" == "$STACK"$'\t'CREATE_COMPLETE$'\t'AVAILABLE ]] ||
    die "change set $1 is not ready to execute on $STACK (stack, status, execution status: ${state//$'\t'/, }): run the plan again"
  change_set="$1"
}

# show_change_set: prints the change set's resource changes and writes them to the job summary.
show_change_set() {
  local changes
  changes="$(aws cloudformation describe-change-set --region "$REGION" --change-set-name "$change_set" \
    --query 'Changes[].ResourceChange.[Action,LogicalResourceId,ResourceType,Replacement]' --output text)"
  printf '\nChange set %s:\n' "$change_set" >&2
  column -t <<<"$changes" >&2 || printf '%s\n' "$changes" >&2
  summary "### Change set" "" "\`$change_set\`" "" "| Action | Resource | Type | Replacement |" "| --- | --- | --- | --- |"
  while IFS=$'\t' read -r action resource type replacement; do
    summary "| $action | $resource | $type | $replacement |"
  done <<<"$changes"
  summary ""
}

if [[ -n "$EXECUTE_CHANGE_SET" ]]; then
  use_change_set "$EXECUTE_CHANGE_SET"
else
  create_change_set
fi

summary "## $([[ "$CHANGE_SET_ONLY" == true ]] && echo Plan || echo Deploy) $STACK ($REGION)" ""
if [[ -z "$change_set" ]]; then
  log "no changes: $STACK is up to date"
  summary "No changes: the stack is up to date." ""
fi
if [[ "$CHANGE_SET_ONLY" == true ]]; then
  [[ -z "$change_set" ]] || show_change_set
  [[ -z "${GITHUB_OUTPUT:-}" ]] || printf 'change-set=%s\n' "${change_set:-none}" >>"$GITHUB_OUTPUT"
  [[ -z "$change_set" ]] || summary "Not executed yet: the deploy job executes exactly this change set once it is approved."
  log "done: change set ${change_set:-none} for $STACK, not executed"
  exit 0
fi
if [[ -n "$change_set" ]]; then
  show_change_set

  if [[ "$CONFIRM_CHANGE_SET" == true ]]; then
    read -r -p "Execute this change set on $STACK? Type 'yes' to continue: " answer
    if [[ "$answer" != yes ]]; then
      aws cloudformation delete-change-set --region "$REGION" --change-set-name "$change_set"
      die "change set not executed (deleted); nothing changed"
    fi
  fi

  log "executing the change set"
  aws cloudformation execute-change-set --region "$REGION" --change-set-name "$change_set"
  if ! aws cloudformation wait "$wait_for" --region "$REGION" --stack-name "$STACK"; then
    aws cloudformation describe-stack-events --region "$REGION" --stack-name "$STACK" --max-items 15 \
      --query "StackEvents[?contains(ResourceStatus, 'FAILED')].[LogicalResourceId,ResourceStatusReason]" --output text >&2 || true
    die "stack $STACK did not reach ${wait_for#stack-} (failed events above)"
  fi
fi

# ------------------------------------------------------------------ outputs and smoke test
outputs="$(aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
  --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text)"
printf '\nOutputs of %s:\n' "$STACK" >&2
column -t <<<"$outputs" >&2 || printf '%s\n' "$outputs" >&2
summary "### Stack outputs" "" "| Output | Value |" "| --- | --- |"
while IFS=$'\t' read -r key value; do
  summary "| $key | \`$value\` |"
done <<<"$outputs"

WEBHOOK_URL="$(stack_output "$STACK" WebhookUrl "$REGION")"
[[ -n "$WEBHOOK_URL" ]] || die "stack $STACK has no WebhookUrl output"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  printf 'webhook-url=%s\n' "$WEBHOOK_URL" >>"$GITHUB_OUTPUT"
fi
log "smoke test: unsigned POST $WEBHOOK_URL must answer 400"
status=000
for attempt in 1 2 3 4 5 6; do
  status="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 15 -X POST \
    -H 'content-type: application/json' --data '{"id":"evt_smoke_test","type":"ping"}' "$WEBHOOK_URL" || echo 000)"
  [[ "$status" == 400 ]] && break
  log "attempt $attempt answered $status; retrying in 5 s (a new API can take a moment)"
  sleep 5
done
if [[ "$status" != 400 ]]; then
  summary "Smoke test **failed**: an unsigned POST answered $status, expected 400."
  die "smoke test failed: an unsigned POST to $WEBHOOK_URL answered $status, expected 400"
fi
summary "Smoke test passed: an unsigned POST to the webhook answered 400."
log "done: $STACK is deployed and rejects unsigned webhooks"
