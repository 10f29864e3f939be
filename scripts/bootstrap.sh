#!/usr/bin/env bash
# One-time setup of an environment, run by an administrator with their own credentials:
#   GITHUB_REPOSITORY=OWNER/REPO [GITHUB_REVIEWERS=login1,login2] scripts/bootstrap.sh ENV REGION
# 1. Deploys scripts/bootstrap.yaml as <prefix>-bootstrap-ENV: the GitHub OIDC provider (only if the account has
#    none), the artifacts bucket, the CloudFormation execution role and the deploy role trusted for the GitHub
#    environment ENV.
# 2. Creates the GitHub environments that close the doors, each deployable from main only: ENV (dev, staging: no
#    reviewers; prod: GITHUB_REVIEWERS, who may not approve their own runs), and with prod also billing (the
#    scheduled billing job) and billing-approval (manual billing: GITHUB_REVIEWERS, no self-review); then sets ENV's
#    variables AWS_DEPLOY_ROLE_ARN and AWS_REGION. Through `gh api` when gh is installed and signed in, otherwise it
#    prints the exact gh commands to run.
# Optional: GITHUB_REPOSITORY_OWNER_ID and GITHUB_REPOSITORY_ID (numeric) add the immutable OIDC subject form;
# GITHUB_SETUP=print only prints the GitHub commands.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=deploy-lib.sh
source "$SCRIPT_DIR/deploy-lib.sh"

parse_environment_and_region "$0" "$@"
require_tool aws "Install AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
require_github_repository
load_tags "${TAGS_FILE:-$SCRIPT_DIR/stack-tags.env}"
GITHUB_SETUP="${GITHUB_SETUP:-auto}"
[[ "$GITHUB_SETUP" == auto || "$GITHUB_SETUP" == print ]] || die "GITHUB_SETUP must be auto or print (got '$GITHUB_SETUP')"
REVIEWERS=()
IFS=',' read -r -a REVIEWERS <<<"${GITHUB_REVIEWERS:-}"
for reviewer in "${REVIEWERS[@]}"; do
  [[ "$reviewer" =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,38}$ ]] || die "GITHUB_REVIEWERS must be GitHub logins separated by commas, such as alice,bob (got '$reviewer')"
done
[[ "$ENVIRONMENT" != prod || ${#REVIEWERS[@]} -gt 0 ]] ||
  die "GITHUB_REVIEWERS is required for prod: the GitHub logins (comma-separated, up to 6) who approve prod deploys and manual billing, such as GITHUB_REVIEWERS=alice,bob"
[[ ${#REVIEWERS[@]} -le 6 ]] || die "GITHUB_REVIEWERS lists ${#REVIEWERS[@]} logins; GitHub accepts at most 6 reviewers per environment"
ACCOUNT="$(require_credentials "$REGION")"
STACK="$STACK_NAME_PREFIX-bootstrap-$ENVIRONMENT"

# Reuse the account's provider if it has one (another project or another environment created it).
existing_provider="$(aws iam list-open-id-connect-providers \
  --query "OpenIDConnectProviderList[?ends_with(Arn, '/token.actions.githubusercontent.com')].Arn | [0]" --output text)"
create_provider=true
if [[ "$existing_provider" != "None" && -n "$existing_provider" ]]; then
  owned_by_stack="$(aws cloudformation describe-stack-resources --region "$REGION" --stack-name "$STACK" \
    --logical-resource-id GitHubOidcProvider --query 'StackResources[0].PhysicalResourceId' --output text 2>/dev/null || true)"
  if [[ "$owned_by_stack" != "$existing_provider" ]]; then
    create_provider=false
    log "reusing the existing OIDC provider $existing_provider"
  fi
fi

log "deploying $STACK to account $ACCOUNT in $REGION for github.com/$GITHUB_REPOSITORY"
aws cloudformation deploy \
  --region "$REGION" \
  --stack-name "$STACK" \
  --template-file "$SCRIPT_DIR/bootstrap.yaml" \
  --capabilities CAPABILITY_IAM \
  --no-fail-on-empty-changeset \
  --parameter-overrides \
  "Environment=$ENVIRONMENT" \
  "StackNamePrefix=$STACK_NAME_PREFIX" \
  "CreateOidcProvider=$create_provider" \
  "GitHubOwner=$GITHUB_OWNER" \
  "GitHubRepository=$GITHUB_REPOSITORY_NAME" \
  "GitHubOwnerId=${GITHUB_REPOSITORY_OWNER_ID:-}" \
  "GitHubRepositoryId=${GITHUB_REPOSITORY_ID:-}" \
  "${TAG_ARGS[@]}" \
  --tags "${TAG_ARGS[@]}"

aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
  --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output table

deploy_role="$(stack_output "$STACK" DeployRoleArn "$REGION")"
[[ -n "$deploy_role" ]] || die "stack $STACK has no DeployRoleArn output"

# ------------------------------------------------------------------ GitHub environments
if [[ "$GITHUB_SETUP" == auto ]] && command -v gh >/dev/null 2>&1 && gh auth status >/dev/null 2>&1; then
  github_mode=run
  log "configuring the GitHub environments of $GITHUB_REPOSITORY through gh api"
else
  github_mode=print
  log "gh is not installed or not signed in (or GITHUB_SETUP=print): run these commands where gh is signed in to github.com"
fi

# github_command ARG...: runs `gh ARG...` or prints it, quoted so that it can be pasted as is.
github_command() {
  if [[ "$github_mode" == run ]]; then
    gh "$@" >/dev/null
  else
    printf '  gh'
    printf ' %q' "$@"
    printf '\n'
  fi
}

# reviewers_json: the reviewers of GITHUB_REVIEWERS as the API's [{"type":"User","id":N}, ...]; in print mode each id
# is the command substitution that looks it up.
reviewers_json() {
  local login id entries=()
  for login in "${REVIEWERS[@]}"; do
    if [[ "$github_mode" == run ]]; then
      id="$(gh api "users/$login" --jq .id)" || die "GitHub user $login was not found (GITHUB_REVIEWERS)"
    else
      id="\$(gh api users/$login --jq .id)"
    fi
    entries+=("{\"type\":\"User\",\"id\":$id}")
  done
  local IFS=,
  printf '[%s]' "${entries[*]}"
}

# github_environment NAME reviewed|unreviewed: the environment, deployable from the branch main only; reviewed ones
# wait for GITHUB_REVIEWERS, and whoever started a run may not approve it.
github_environment() {
  local name="$1" protection="$2" body branches='"deployment_branch_policy":{"protected_branches":false,"custom_branch_policies":true}'
  if [[ "$protection" == reviewed ]]; then
    body="{\"prevent_self_review\":true,\"reviewers\":$(reviewers_json),$branches}"
  else
    body="{$branches}"
  fi
  local path="repos/$GITHUB_REPOSITORY/environments/$name"
  if [[ "$github_mode" == run ]]; then
    gh api --method PUT "$path" --input - <<<"$body" >/dev/null || die "could not create or update the GitHub environment $name"
    if ! gh api "$path/deployment-branch-policies" --jq '.branch_policies[].name' | grep -qx main; then
      gh api --method POST "$path/deployment-branch-policies" -f name=main -f type=branch >/dev/null ||
        die "could not restrict the GitHub environment $name to the branch main"
    fi
    log "GitHub environment $name: branch main only$([[ "$protection" == reviewed ]] && echo ", reviewers ${GITHUB_REVIEWERS}, no self-review")"
  else
    printf '  echo "%s" | gh api --method PUT %s --input -\n' "${body//\"/\\\"}" "$path"
    printf '  gh api --method POST %s/deployment-branch-policies -f name=main -f type=branch\n' "$path"
  fi
}

if [[ "$ENVIRONMENT" == prod ]]; then
  github_environment prod reviewed
  github_environment billing unreviewed
  github_environment billing-approval reviewed
else
  github_environment "$ENVIRONMENT" unreviewed
fi
github_command variable set AWS_DEPLOY_ROLE_ARN --repo "$GITHUB_REPOSITORY" --env "$ENVIRONMENT" --body "$deploy_role"
github_command variable set AWS_REGION --repo "$GITHUB_REPOSITORY" --env "$ENVIRONMENT" --body "$REGION"

cat <<NEXT

Next steps (README "Fork and set up"):
  1. Store the Stripe secrets of $ENVIRONMENT as SecureString parameters in $REGION:
       aws ssm put-parameter --region $REGION --type SecureString --name /stripe/$ENVIRONMENT/secret-key --value 'sk_...'
       aws ssm put-parameter --region $REGION --type SecureString --name /stripe/$ENVIRONMENT/webhook-secret --value 'whsec_placeholder'
  2. Push to main (or run scripts/deploy.sh $ENVIRONMENT $REGION with the deploy role's credentials).
NEXT
