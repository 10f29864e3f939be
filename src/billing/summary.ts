import { formatMoney, minorUnitsPerUnit, toDecimalString } from '../money.js';
import { markdownCell as cell } from '../report/markdown.js';
import { formatMinor } from './plan.js';
import type { BillingOutcome, CustomerFailure } from './run.js';
import type { CustomerPlan, PlannedAction } from './types.js';

/** Job summaries are capped at 1 MiB: tables stop at this many rows and say how many more there are. */
const MAX_ROWS = 500;

export function renderBillingSummary(outcome: BillingOutcome): string {
  const { plan } = outcome;
  const lines = [`## Billing ${plan.period} (${plan.mode})`, ''];
  if (outcome.dryRun) lines.push('> [!NOTE]', '> Dry run: this is the plan. Nothing was sent to Stripe and nothing was written to the billing table.', '');
  if (outcome.notice) lines.push(`> ${outcome.notice}`, '');
  if (outcome.estimated) lines.push('> Costs of the current month are Cost Explorer estimates; the true-up bills or credits the settled difference.', '');

  lines.push(
    // A true-up settles a closed month: its cost is the month's total.
    `| Customer | ${plan.mode === 'true-up' ? 'Cost' : 'Cost to date'} | Markup | Charge (with markup) | Allowance | Overage | Already billed | Now | Plan |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const customer of plan.customers.slice(0, MAX_ROWS)) lines.push(planRow(customer));
  more(lines, plan.customers.length, 'customers');

  if (outcome.invoices.length > 0) {
    lines.push('', '### Invoices', '', '| Customer | Invoice | Amount | Status | Dashboard |', '| --- | --- | ---: | --- | --- |');
    for (const invoice of outcome.invoices.slice(0, MAX_ROWS)) {
      // Only the dashboard link (it needs a Stripe login): anyone with the hosted invoice link can view and pay it.
      lines.push(
        `| ${cell(invoice.name)} | \`${invoice.invoiceId}\`${invoice.resumed ? ' (resumed)' : ''} | ${formatMinor(invoice.amountMinor, invoice.currency)} | ${invoice.status} | [dashboard](${invoice.dashboardUrl}) |`,
      );
    }
    more(lines, outcome.invoices.length, 'invoices');
  }
  if (outcome.credits.length > 0) {
    lines.push('', '### Credits to customer balances', '');
    for (const credit of outcome.credits) lines.push(`- ${credit.customerId}: ${formatMinor(credit.amountMinor, credit.currency)} (\`${credit.creditId}\`)`);
  }
  if (outcome.meterEvents > 0) lines.push('', `Meter events reported: ${outcome.meterEvents}.`);
  for (const resolution of outcome.meterResolutions ?? []) {
    lines.push(`- \`${resolution.customerId}\` \`${resolution.entryId}\`: ${METER_DELIVERY[resolution.delivery]}`);
  }
  if (outcome.heldElsewhere.length > 0) {
    lines.push('', `Held by another run at the same time (billed there): ${outcome.heldElsewhere.map((entry) => `\`${entry}\``).join(', ')}.`);
  }
  if (outcome.failures.length > 0) {
    lines.push('', '### Failed', '');
    for (const failure of outcome.failures) lines.push(failureLine(failure));
  }
  return `${lines.join('\n')}\n`;
}

const METER_DELIVERY: Record<NonNullable<BillingOutcome['meterResolutions']>[number]['delivery'], string> = {
  duplicate: 'Stripe already held its identifier (an earlier run delivered it): completed without a second event',
  'in-summary': "past Stripe's dedupe window; the meter event summary holds it: completed without a second event",
  'sent-after-summary': "past Stripe's dedupe window; the meter event summary held nothing: sent",
};

function failureLine(failure: CustomerFailure): string {
  const entry = failure.entryId ? `, entry \`${failure.entryId}\`` : '';
  const state = failure.released
    ? ' The entry was released: nothing reached Stripe, and the next run plans it again.'
    : failure.retryAfter
      ? ` Blocked: the entry stays pending and can be retried from ${failure.retryAfter}.`
      : '';
  const message = state && !/[.!?]$/.test(failure.message) ? `${failure.message}.` : failure.message;
  return `- **${cell(failure.name)}** (\`${failure.customerId}\`${entry}): ${message}${state}`;
}

function planRow(customer: CustomerPlan): string {
  const money = (micros: number) => formatMoney(micros, customer.currency);
  const basis = customer.basis;
  const costCells = basis
    ? [money(basis.cost), `${basis.markupPercent} %`, money(basis.costWithMarkup), money(basis.allowance), money(basis.overage)]
    : ['–', '–', '–', '–', '–'];
  const meter = customer.actions.filter((action) => action.kind === 'meter');
  const meterTotal = meter.reduce((total, action) => total + action.entry.amountMinor, 0);
  const actions = [
    ...customer.resume.map((action) => `resume ${describeAction(action)}`),
    ...customer.actions.filter((action) => action.kind !== 'meter').map(describeAction),
    ...(meter.length > 0 ? [`meter ${formatMinor(meterTotal, customer.currency)} over ${meter.length} day(s)`] : []),
  ];
  const planText = [...actions, customer.note].join('; ');
  return `| ${cell(customer.name)} | ${costCells.join(' | ')} | ${formatMinor(customer.alreadyBilledMinor, customer.currency)} | ${formatMinor(customer.amountNowMinor, customer.currency)} | ${cell(planText)} |`;
}

function describeAction(action: PlannedAction): string {
  const amount = formatMinor(Math.abs(action.entry.amountMinor), action.entry.currency);
  if (action.kind === 'close') return 'close the period';
  if (action.kind === 'credit') return `credit ${amount}`;
  if (action.kind === 'meter') return `meter ${amount} (${action.entry.entryId.replace('meter-', '')})`;
  return `invoice ${amount}`;
}

function more(lines: string[], count: number, what: string) {
  if (count > MAX_ROWS) lines.push(`| … and ${count - MAX_ROWS} more ${what} (see the plan output) | | | | | | | | |`);
}

/** "12.34" for usd, "1234" for jpy: an amount of minor units as a decimal in the currency's units. */
export function minorToDecimal(amountMinor: number, currency: string): string {
  const perUnit = minorUnitsPerUnit(currency);
  const decimal = toDecimalString(amountMinor * (1_000_000 / perUnit));
  return perUnit === 1 ? decimal.replace(/\.\d+$/, '') : decimal.replace(/(\.\d{2})\d*$/, '$1');
}

/** The action's outputs: money as decimal strings, never floats. */
export function billingOutputs(outcome: BillingOutcome, currency: string): Record<string, string> {
  const invoices = outcome.invoices.map((invoice) => ({
    id: invoice.invoiceId,
    customer: invoice.customerId,
    amount: minorToDecimal(invoice.amountMinor, invoice.currency),
    currency: invoice.currency,
    status: invoice.status,
    dashboardUrl: invoice.dashboardUrl,
  }));
  const billedMinor = outcome.invoices.filter((invoice) => invoice.currency === currency).reduce((total, invoice) => total + invoice.amountMinor, 0);
  const plan = outcome.plan.customers.map((customer) => {
    const decimal = (minor: number) => minorToDecimal(minor, customer.currency);
    return {
      customer: customer.customerId,
      currency: customer.currency,
      mode: customer.billingMode,
      ...(customer.basis
        ? {
            cost: toDecimalString(customer.basis.cost),
            markupPercent: customer.basis.markupPercent,
            costWithMarkup: toDecimalString(customer.basis.costWithMarkup),
            allowance: toDecimalString(customer.basis.allowance),
            overage: decimal(customer.basis.overageMinor),
          }
        : {}),
      alreadyBilled: decimal(customer.alreadyBilledMinor),
      amountNow: decimal(customer.amountNowMinor),
      actions: [...customer.resume, ...customer.actions].map((action) => ({
        kind: action.kind,
        entry: action.entry.entryId,
        amount: decimal(action.entry.amountMinor),
        status: action.entry.status,
        ...(action.entry.lines ? { lines: action.entry.lines.map((line) => ({ description: line.description, amount: decimal(line.amountMinor) })) } : {}),
      })),
      note: customer.note,
    };
  });
  return {
    invoices: JSON.stringify(invoices),
    'billed-total': minorToDecimal(billedMinor, currency),
    credits: JSON.stringify(
      outcome.credits.map((credit) => ({
        id: credit.creditId,
        customer: credit.customerId,
        amount: minorToDecimal(credit.amountMinor, credit.currency),
        currency: credit.currency,
      })),
    ),
    plan: JSON.stringify({ period: outcome.plan.period, mode: outcome.plan.mode, dryRun: outcome.dryRun, customers: plan }),
  };
}
