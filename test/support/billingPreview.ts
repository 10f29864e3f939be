import { readFileSync } from 'node:fs';

/** The demo's billing config, as the base branch has it. */
export const baseConfigText = readFileSync('scripts/demo/billing.config.yaml', 'utf8');

/**
 * A pull request's change to the demo config: Acme's allowance up to 1,000, Globex's markup up to 15 %, Hooli
 * removed, Wayne added; Initech and Umbrella unchanged.
 */
export function proposedConfigText({ acmeAllowance = 1000 } = {}): string {
  return `currency: usd
allocation: LINKED_ACCOUNT
excludeRecordTypes: [Credit, Refund]
alertLevels: [50, 80, 100]
forecastAlertLevels: [100]
customers:
  - id: acme
    name: Acme Corp
    match: "111111111111"
    stripeCustomerId: cus_DemoAcme01
    allowance: ${acmeAllowance}
    markupPercent: 10
  - id: globex
    name: Globex
    match: "222222222222"
    stripeCustomerId: cus_DemoGlobex1
    allowance: 900
    markupPercent: 15
  - id: initech
    name: Initech
    match: "333333333333"
    stripeCustomerId: cus_DemoInitech
    allowance: 500
  - id: umbrella
    name: Umbrella Health
    match: "444444444444"
    stripeCustomerId: cus_DemoUmbrell
    allowance: 250
    mode: meter
    meterEventName: aws_usage
  - id: wayne
    name: Wayne Enterprises
    match: "666666666666"
    stripeCustomerId: cus_DemoWayne01
    allowance: 300
    markupPercent: 20
`;
}

/** A config with three mistakes, each on a known line (1-based). */
export const invalidConfigText = `currency: usd
customers:
  - id: acme
    name: Acme Corp
    match: "111111111111"
    stripeCustomerId: cus
    allowance: 800
  - id: globex
    match: "222222222222"
    stripeCustomerId: cus_DemoGlobex1
    allowance: -5
    markup: 10
`;
/** customers[0].stripeCustomerId, customers[1].name (missing: the item's first line), allowance, the unknown key. */
export const invalidConfigLines = { stripeCustomerId: 6, missingName: 8, allowance: 11, unknownKey: 12 };
