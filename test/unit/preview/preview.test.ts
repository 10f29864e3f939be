import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBillingConfig } from '../../../src/config/load.js';
import { applyMarkup, fromUnits, toMinorUnits } from '../../../src/money.js';
import { previewBilling, type CustomerChange } from '../../../src/preview/diff.js';
import { COMMENT_ROW_LIMIT, PREVIEW_MARKER, renderInvalidConfig, renderPreview, type PreviewContext } from '../../../src/preview/render.js';
import { baseConfigText, proposedConfigText } from '../../support/billingPreview.js';
import { demoSnapshot } from '../../support/snapshots.js';

/** Golden files: UPDATE_GOLDEN=1 npx vitest run test/unit/preview rewrites them; review the diff. */
function expectGolden(name: string, actual: string) {
  const path = `test/fixtures/golden/${name}`;
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const base = parseBillingConfig(baseConfigText);
const proposed = parseBillingConfig(proposedConfigText());

async function context(): Promise<PreviewContext> {
  const snapshot = await demoSnapshot();
  return {
    configPath: 'billing.config.yaml',
    report: { ...snapshot, generatedAt: '2026-11-15T06:00:00.000Z', runUrl: 'https://github.com/o/r/actions/runs/102' },
  };
}

const byId = (changes: readonly CustomerChange[]) => Object.fromEntries(changes.map((change) => [change.customerId, change]));

describe('billing preview: the plan under the base and the proposed config', () => {
  it('lists only customers whose terms or figures change, plus the added and the removed', async () => {
    const preview = previewBilling(base, proposed, await demoSnapshot());
    expect(preview.changes.map((change) => [change.customerId, change.status])).toEqual([
      ['acme', 'changed'],
      ['globex', 'changed'],
      ['wayne', 'added'],
      ['hooli', 'removed'],
    ]);
    expect(preview.unchangedCount).toBe(2);
    const changes = byId(preview.changes);
    expect(changes.acme?.status === 'changed' && changes.acme.fields).toEqual(['allowance', 'projectedInvoiceMinor']);
    expect(changes.globex?.status === 'changed' && changes.globex.fields).toEqual(['markupPercent', 'charge']);
  });

  it('computes the charge as cost with markup and the projected invoice as the forecast charge above the allowance', async () => {
    const snapshot = await demoSnapshot();
    const acmeCosts = snapshot.customers.find((costs) => costs.customerId === 'acme')!;
    const globexCosts = snapshot.customers.find((costs) => costs.customerId === 'globex')!;
    const changes = byId(previewBilling(base, proposed, snapshot).changes);
    const acme = changes.acme as Extract<CustomerChange, { status: 'changed' }>;
    const globex = changes.globex as Extract<CustomerChange, { status: 'changed' }>;
    expect(acme.after.charge).toBe(applyMarkup(acmeCosts.cost, 10));
    const projected = (forecast: number, markup: number, allowance: number) =>
      toMinorUnits(Math.max(0, applyMarkup(forecast, markup) - fromUnits(allowance)), 'usd');
    expect(acme.before.projectedInvoiceMinor).toBe(projected(acmeCosts.forecast, 10, 800));
    expect(acme.after.projectedInvoiceMinor).toBe(projected(acmeCosts.forecast, 10, 1000));
    expect(acme.before.projectedInvoiceMinor).toBeGreaterThan(acme.after.projectedInvoiceMinor!);
    expect(globex.before.charge).toBe(applyMarkup(globexCosts.cost, 12.5));
    expect(globex.after.charge).toBe(applyMarkup(globexCosts.cost, 15));
    const wayne = changes.wayne as Extract<CustomerChange, { status: 'added' }>;
    expect(wayne.after).toMatchObject({ charge: undefined, projectedInvoiceMinor: undefined, allowance: fromUnits(300) });
  });

  it('adds up every customer’s projected invoices per currency under each config', async () => {
    const preview = previewBilling(base, proposed, await demoSnapshot());
    const changes = preview.changes;
    const delta = changes.reduce((total, change) => {
      const before = change.status === 'added' ? 0 : (change.before.projectedInvoiceMinor ?? 0);
      const after = change.status === 'removed' ? 0 : (change.after.projectedInvoiceMinor ?? 0);
      return total + after - before;
    }, 0);
    expect(preview.projectedTotals).toHaveLength(1);
    expect(preview.projectedTotals[0]!.currency).toBe('usd');
    expect(preview.projectedTotals[0]!.afterMinor - preview.projectedTotals[0]!.beforeMinor).toBe(delta);
  });

  it('marks a customer whose currency the costs are not in as not billable', async () => {
    const euro = parseBillingConfig(proposedConfigText().replace('    allowance: 500\n', '    allowance: 500\n    currency: eur\n'));
    const initech = byId(previewBilling(proposed, euro, await demoSnapshot()).changes).initech as Extract<CustomerChange, { status: 'changed' }>;
    expect(initech.fields).toContain('currency');
    expect(initech.after.failure).toMatch(/costs are reported in USD/);
  });

  it('renders the sticky comment with before and after figures (golden file)', async () => {
    expectGolden('billing-preview-comment.md', renderPreview(previewBilling(base, proposed, await demoSnapshot()), await context(), COMMENT_ROW_LIMIT));
  });

  it('says so when nothing changes, and compares terms alone without a cost report', async () => {
    const same = renderPreview(previewBilling(base, base, await demoSnapshot()), await context());
    expect(same).toContain("No customer's billing changes (5 customers compared).");
    const withoutReport = renderPreview(previewBilling(base, proposed, undefined), { configPath: 'billing.config.yaml', report: undefined });
    expect(withoutReport).toContain('No cost report was found');
    expect(withoutReport).toContain('| Acme Corp (acme) | changed | $800.00 → **$1,000.00** | 10 % | no costs | — |');
  });

  it('keeps the comment under GitHub’s size limit by leaving rows past the limit to the job summary', async () => {
    const many = parseBillingConfig(
      `customers:\n${Array.from({ length: 150 }, (_, i) => `  - {id: c${i}, name: "Customer <${i}> ${'|'.repeat(200)}", match: "${String(i).padStart(12, '0')}", stripeCustomerId: cus_Many${i}x, allowance: ${i}}`).join('\n')}\n`,
    );
    const comment = renderPreview(previewBilling(undefined, many, undefined), { configPath: 'billing.config.yaml', report: undefined }, COMMENT_ROW_LIMIT);
    expect(comment.startsWith(`${PREVIEW_MARKER}\n`)).toBe(true);
    expect(comment.match(/^\| Customer \| Change/gm)).toHaveLength(1);
    expect(comment.match(/ \| added \| /g)).toHaveLength(COMMENT_ROW_LIMIT);
    expect(comment).toContain('…and 50 more customers: see the job summary of this run.');
    expect(comment.length).toBeLessThan(65_536);
  });

  it('lists an invalid config’s problems with their lines', () => {
    const body = renderInvalidConfig(
      [
        { message: 'customers[0].allowance is -5; expected a monthly allowance of 0 or more', line: 7 },
        { message: 'config: cannot be read', line: undefined },
      ],
      'billing.config.yaml',
    );
    expect(body).toContain('The config is invalid (2 problems)');
    expect(body).toContain('- line 7: customers\\[0\\].allowance is -5; expected a monthly allowance of 0 or more');
    expect(body).toContain('- config: cannot be read');
  });
});
