#!/usr/bin/env bash
# One-time setup of an environment, run by an administrator with their own credentials:
#   GITHUB_REPOSITORY=OWNER/REPO scripts/bootstrap.sh ENV REGION
# Deploys scripts/bootstrap.yaml as <prefix>-bootstrap-ENV: the GitHub OIDC provider (only if the account has none),
# the artifacts bucket, the CloudFormation execution role and the deploy role trusted for the GitHub environment ENV.
# Optional: GITHUB_REPOSITORY_OWNER_ID and GITHUB_REPOSITORY_ID (numeric) add the immutable OIDC subject form.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=deploy-lib.sh
source "$SCRIPT_DIR/deploy-lib.sh"

parse_environment_and_region "$0" "$@"
require_tool aws "Install AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
require_github_repository
load_tags "${TAGS_FILE:-$SCRIPT_DIR/stack-tags.env}"
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
cat <<NEXT

Next steps:
  1. In GitHub, create the environment '$ENVIRONMENT' (prod: add required reviewers) and set its variables:
       gh variable set AWS_DEPLOY_ROLE_ARN --env $ENVIRONMENT --body '$deploy_role'
       gh variable set AWS_REGION --env $ENVIRONMENT --body '$REGION'
  2. Store the Stripe secrets as SecureString parameters in $REGION (see docs/deploy.md).
  3. Push to main (or run scripts/deploy.sh $ENVIRONMENT $REGION with the deploy role's credentials).
NEXT
