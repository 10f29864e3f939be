import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { invoiceKey } from '../../src/records/keys.js';
import { describe, expect, it } from 'vitest';
import { runBilling, type BillingOutcome, type BillingRequest } from '../../src/billing/run.js';
import { billingOutputs, renderBillingSummary } from '../../src/billing/summary.js';
import type { LedgerPort, StripeBillingPort } from '../../src/billing/types.js';
import type { BillingConfig } from '../../src/config/load.js';
import type { CostSnapshot } from '../../src/costs/types.js';
import { applyMarkup, fromUnits, parseAmount, toMinorUnits } from '../../src/money.js';
import { snsPublisher } from '../../src/notify/sns.js';
import { parsePeriod } from '../../src/period.js';
import { stripeBilling } from '../../src/stripe/billing.js';
import { dynamoLedger } from '../../src/store/ledger.js';
import { acme, billingConfig, costSnapshot, days, globex, initech, scanTable, useBillingServices, type CustomerSpend } from '../support/billing.js';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/moto.js';

const TABLE = 'billing';
const services = useBillingServices(
  TABLE,
  [acme, globex, initech].map((customer) => customer.stripeCustomerId),
);

const noWait = async () => undefined;

function stripePort(): StripeBillingPort {
  return stripeBilling(services.stripe.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait });
}

interface RunOptions {
  readonly config: BillingConfig;
  readonly today: string;
  readonly spends?: readonly CustomerSpend[];
  readonly snapshot?: CostSnapshot;
  readonly mode?: BillingRequest['mode'];
  readonly period?: string;
  readonly dryRun?: boolean;
  readonly ledger?: LedgerPort;
  readonly stripe?: StripeBillingPort;
  readonly extra?: Partial<BillingRequest>;
  readonly publish?: Parameters<typeof runBilling>[0]['publish'];
}

function bill(options: RunOptions): Promise<BillingOutcome> {
  const now = new Date(`${options.today}T07:00:00Z`);
  const period = parsePeriod(options.period ?? 'current', now);
  const snapshot = options.snapshot ?? costSnapshot(options.config, period.id, options.today, options.spends ?? []);
  return runBilling(
    {
      loadCosts: async () => snapshot,
      ledger: options.ledger ?? dynamoLedger(services.dynamo, TABLE),
      stripe: options.stripe ?? stripePort(),
      ...(options.publish ? { publish: options.publish } : {}),
    },
    options.config,
    { mode: options.mode ?? 'scheduled', period, now, dryRun: options.dryRun ?? false, ...options.extra },
  );
}

const invoices = () => [...services.stripe.state.invoices.values()];
const invoicesOf = (stripeCustomerId: string) => invoices().filter((invoice) => invoice.customer === stripeCustomerId);
const itemAmounts = (stripeCustomerId: string) =>
  [...services.stripe.state.invoiceItems.values()].filter((item) => item.customer === stripeCustomerId).map((item) => item.amount);

describe('delta billing through the month', () => {
  it("bills nothing within the allowance, the overage once the threshold is crossed, then only each day's increase", async () => {
    const config = billingConfig([acme]);
    // acme: allowance 100, markup 10 %; 9 days of 11.00 = 99.00 cost -> 108.90 with markup -> 8.90 overage.
    const first = await bill({ config, today: '2026-11-08', spends: [{ id: 'acme', daily: days(7, '11') }] });
    expect(first.invoices).toHaveLength(0);
    expect(first.plan.customers[0]?.note).toBe('within the allowance');

    const crossed = await bill({
      config,
      today: '2026-11-10',
      spends: [
        {
          id: 'acme',
          daily: days(9, '11'),
          services: [
            ['Amazon EC2', '60'],
            ['Amazon S3', '30'],
            ['AWS Lambda', '9'],
          ],
        },
      ],
    });
    expect(crossed.invoices.map((invoice) => invoice.amountMinor)).toEqual([890]);

    const next = await bill({ config, today: '2026-11-11', spends: [{ id: 'acme', daily: [...days(9, '11'), '12.3456'] }] });
    // 111.3456 * 1.1 = 122.48016 -> overage 22.48016 -> 2248 cents, 890 already billed.
    expect(next.invoices.map((invoice) => invoice.amountMinor)).toEqual([1358]);
    // 890 split 60 : 30 : 9 by service (539.39, 269.69, 80.91): the two largest remainders get the 2 cents left over.
    expect(itemAmounts(acme.stripeCustomerId)).toEqual([539, 270, 81, 1358]);
    expect(890 + 1358).toBe(toMinorUnits(applyMarkup(parseAmount('111.3456'), 10) - fromUnits(100), 'usd'));

    const [invoice] = invoicesOf(acme.stripeCustomerId);
    expect(invoice).toMatchObject({
      status: 'open',
      emails_sent: 1,
      auto_advance: false,
      pending_invoice_items_behavior: 'exclude',
      collection_method: 'send_invoice',
      days_until_due: 30,
      metadata: { customerId: 'acme', period: '2026-11', ledgerEntry: 'acme/2026-11/overage-2026-11-10' },
    });
    expect(invoice?.description).toBe('AWS usage above the allowance, November 2026, to 2026-11-10 (largest: Amazon EC2, Amazon S3, AWS Lambda)');
    expect([...services.stripe.state.invoiceItems.values()].map((item) => item.description)).toEqual([
      'Amazon EC2',
      'Amazon S3',
      'AWS Lambda',
      'Amazon Elastic Compute Cloud - Compute',
    ]);
  });

  it('writes each invoice record in the shared schema and completes its ledger entry', async () => {
    const config = billingConfig([acme]);
    const outcome = await bill({ config, today: '2026-11-10', spends: [{ id: 'acme', daily: days(9, '20') }] });
    const [billed] = outcome.invoices;
    const items = await scanTable(services.dynamo, TABLE);
    const record = items.find((item) => item.recordType === 'invoice');
    expect(record).toMatchObject({
      pk: `INVOICE#${billed?.invoiceId}`,
      sk: 'INVOICE',
      invoiceId: billed?.invoiceId,
      stripeCustomerId: 'cus_acme0001',
      customerId: 'acme',
      period: '2026-11',
      amountDue: 9800,
      currency: 'usd',
      status: 'open',
      statusRank: 1,
      ledgerEntry: 'acme/2026-11/overage-2026-11-10',
      gsi1pk: 'CUSTOMER#acme',
      gsi1sk: `PERIOD#2026-11#INVOICE#${billed?.invoiceId}`,
    });
    expect(String(record?.hostedInvoiceUrl)).toMatch(/^https:\/\/invoice\.stripe\.com\//);
    const entry = items.find((item) => item.recordType === 'ledger');
    expect(entry).toMatchObject({ status: 'completed', amountMinor: 9800, kind: 'overage', invoiceId: billed?.invoiceId });
    expect(billed?.dashboardUrl).toBe(`https://dashboard.stripe.com/test/invoices/${billed?.invoiceId}`);
  });

  it('keeps the hosted invoice link (anyone with it can pay) in the invoice record only, never in the summary or outputs', async () => {
    const outcome = await bill({ config: billingConfig([acme]), today: '2026-11-10', spends: [{ id: 'acme', daily: days(9, '20') }] });
    const [invoice] = invoices();
    const hosted = String(invoice?.hosted_invoice_url);
    expect(hosted).toMatch(/^https:\/\/invoice\.stripe\.com\//);
    expect(renderBillingSummary(outcome)).not.toContain(hosted);
    expect(renderBillingSummary(outcome)).toContain('dashboard.stripe.com');
    expect(JSON.stringify(billingOutputs(outcome, 'usd'))).not.toContain(hosted);
    const items = await scanTable(services.dynamo, TABLE);
    expect(items.find((item) => item.recordType === 'invoice')?.hostedInvoiceUrl).toBe(hosted);
    expect(JSON.stringify(items.filter((item) => item.recordType !== 'invoice'))).not.toContain(hosted);
  });

  it('waits while the increase is below the minimum invoice amount', async () => {
    const config = billingConfig([acme], { minimumInvoiceAmount: 5 });
    const outcome = await bill({ config, today: '2026-11-10', spends: [{ id: 'acme', daily: [...days(8, '10'), '22'] }] });
    // 102 * 1.1 = 112.2 -> 12.20 overage: above the minimum, billed. Then +2.00 cost -> +2.20: below 5.00.
    expect(outcome.invoices.map((invoice) => invoice.amountMinor)).toEqual([1220]);
    const later = await bill({ config, today: '2026-11-11', spends: [{ id: 'acme', daily: [...days(8, '10'), '22', '2'] }] });
    expect(later.invoices).toHaveLength(0);
    expect(later.plan.customers[0]?.note).toContain('below the minimum invoice amount of $5.00');
  });

  it('publishes an SNS notice per invoice created', async () => {
    const sns = new SNSClient({ endpoint: services.moto.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
    const topic = await sns.send(new CreateTopicCommand({ Name: 'billing' }));
    const config = billingConfig([acme, globex]);
    await bill({
      config,
      today: '2026-11-10',
      spends: [
        { id: 'acme', daily: days(9, '20') },
        { id: 'globex', daily: days(9, '10') },
      ],
      publish: snsPublisher(sns, topic.TopicArn ?? ''),
    });
    const messages = await services.moto.snsMessages();
    expect(messages.map((message) => message.attributes.customer).sort()).toEqual(['acme', 'globex']);
    expect(messages.every((message) => message.attributes.type === 'invoice-created')).toBe(true);
    // Notices reach email subscribers: they name the invoice but never carry the link that lets anyone pay it.
    expect(messages.some((message) => message.message.includes('invoice.stripe.com'))).toBe(false);
  });
});

describe('exactly once', () => {
  const config = billingConfig([acme]);
  const spends = [{ id: 'acme', daily: days(9, '20') }];

  it('bills once when the same day runs twice', async () => {
    await bill({ config, today: '2026-11-10', spends });
    const requestsAfterFirst = services.stripe.requests.total;
    const second = await bill({ config, today: '2026-11-10', spends });
    expect(invoices()).toHaveLength(1);
    expect(second.invoices).toHaveLength(0);
    expect(second.plan.customers[0]?.note).toContain('already billed today');
    expect(services.stripe.requests.total).toBe(requestsAfterFirst);
  });

  it('creates one invoice when two runs bill at the same time', async () => {
    const outcomes = await Promise.all([bill({ config, today: '2026-11-10', spends }), bill({ config, today: '2026-11-10', spends })]);
    expect(invoices()).toHaveLength(1);
    expect(outcomes.flatMap((outcome) => outcome.invoices)).toHaveLength(1);
    expect(outcomes.flatMap((outcome) => outcome.failures)).toEqual([]);
  });

  it('creates one invoice and no error when two runs with different cost reports bill at the same time', async () => {
    // Same entry, other amount: without the ledger's conditional write the second run would reuse the idempotency
    // key with other parameters and fail; with it, the second run sees the entry held and steps aside.
    const outcomes = await Promise.all([
      bill({ config, today: '2026-11-10', spends }),
      bill({ config, today: '2026-11-10', spends: [{ id: 'acme', daily: days(9, '21') }] }),
    ]);
    expect(invoices()).toHaveLength(1);
    expect(outcomes.flatMap((outcome) => outcome.failures)).toEqual([]);
    expect(outcomes.flatMap((outcome) => outcome.heldElsewhere)).toEqual(['acme/2026-11/overage-2026-11-10']);
  });

  /** The DynamoDB ledger, but no run goes on from its read before `runs` runs have read: they plan on the same state. */
  function ledgerReadTogether(runs: number): LedgerPort {
    const ledger = dynamoLedger(services.dynamo, TABLE);
    let waiting = runs;
    let allRead: () => void = () => undefined;
    const together = new Promise<void>((resolve) => {
      allRead = resolve;
    });
    return {
      ...ledger,
      read: async (customerId, period) => {
        const state = await ledger.read(customerId, period);
        if (--waiting === 0) allRead();
        await together;
        return state;
      },
    };
  }

  it('bills an overage once when two runs planned on the same ledger straddle midnight (different entry ids)', async () => {
    const ledger = ledgerReadTogether(2);
    const outcomes = await Promise.all([bill({ config, today: '2026-11-10', spends, ledger }), bill({ config, today: '2026-11-11', spends, ledger })]);
    expect(invoices()).toHaveLength(1);
    expect(outcomes.flatMap((outcome) => outcome.invoices)).toHaveLength(1);
    expect(outcomes.flatMap((outcome) => outcome.failures)).toEqual([]);
    expect(outcomes.flatMap((outcome) => outcome.heldElsewhere)).toHaveLength(1);
    const entries = (await scanTable(services.dynamo, TABLE)).filter((item) => String(item.sk).startsWith('ENTRY#'));
    expect(entries).toHaveLength(1);
  });

  it('bills an overage once when a scheduled run races the true-up of the same period', async () => {
    await bill({ config, today: '2026-11-30', spends: [{ id: 'acme', daily: days(29, '10') }] });
    const ledger = ledgerReadTogether(2);
    const month = [{ id: 'acme', daily: days(30, '12') }];
    const outcomes = await Promise.all([
      bill({ config, today: '2026-12-03', period: '2026-11', spends: month, ledger }),
      bill({ config, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: month, ledger }),
    ]);
    expect(outcomes.flatMap((outcome) => outcome.invoices)).toHaveLength(1);
    expect(invoices()).toHaveLength(2);
    expect(outcomes.flatMap((outcome) => outcome.heldElsewhere)).toHaveLength(1);
  });

  it('resumes after a crash between the Stripe invoice and the ledger, without a second invoice or email', async () => {
    const ledger = dynamoLedger(services.dynamo, TABLE);
    const crashing: LedgerPort = { ...ledger, complete: async () => Promise.reject(new Error('runner lost')) };
    const crashed = await bill({ config, today: '2026-11-10', spends, ledger: crashing });
    expect(crashed.failures).toHaveLength(1);
    expect(invoicesOf(acme.stripeCustomerId)).toHaveLength(1);

    // A day later Stripe has forgotten the idempotency keys: the ledger and the invoice's metadata are what count.
    services.stripe.forgetIdempotencyKeys();
    const resumed = await bill({ config, today: '2026-11-11', spends });
    expect(invoicesOf(acme.stripeCustomerId)).toHaveLength(1);
    expect(resumed.invoices).toMatchObject([{ resumed: true, amountMinor: 9800 }]);
    expect(services.stripe.requests.count('GET /v1/invoices/search')).toBe(1);
    expect(invoices()[0]).toMatchObject({ status: 'open', emails_sent: 1 });
    expect(services.stripe.requests.count('GET /v1/events')).toBe(1);
    const ledgerItems = (await scanTable(services.dynamo, TABLE)).filter((item) => item.recordType === 'ledger');
    expect(ledgerItems.map((item) => item.status)).toEqual(['completed']);
  });

  it('sends the email of an invoice finalized before a crash when it resumes, once', async () => {
    services.stripe.inject({ kind: 500, route: 'POST /v1/invoices/:id/send', count: 6 });
    const crashed = await bill({ config, today: '2026-11-10', spends });
    expect(crashed.failures[0]?.message).toContain('Stripe did not answer to send invoice');
    expect(invoices()[0]).toMatchObject({ status: 'open', emails_sent: 0 });

    services.stripe.forgetIdempotencyKeys();
    const resumed = await bill({ config, today: '2026-11-11', spends });
    expect(resumed.invoices).toMatchObject([{ resumed: true, amountMinor: 9800 }]);
    expect(invoices()).toHaveLength(1);
    expect(invoices()[0]).toMatchObject({ status: 'open', emails_sent: 1 });
    expect(services.stripe.requests.count('GET /v1/events')).toBe(1);
  });

  it('resumes a draft left by a crash before its item was added', async () => {
    services.stripe.inject({ kind: 500, route: 'POST /v1/invoiceitems', count: 6 });
    const crashed = await bill({ config, today: '2026-11-10', spends });
    expect(crashed.failures[0]?.message).toContain('Stripe did not answer to add the item');
    expect(invoices()[0]?.status).toBe('draft');

    services.stripe.forgetIdempotencyKeys();
    const resumed = await bill({ config, today: '2026-11-10', spends });
    expect(resumed.invoices).toHaveLength(1);
    expect(invoices()).toHaveLength(1);
    expect(invoices()[0]).toMatchObject({ status: 'open', amount_due: 9800, emails_sent: 1 });
    expect(services.stripe.state.invoiceItems.size).toBe(1);
  });

  it('retries a Stripe 500, a 429 and a dropped connection with the same idempotency key', async () => {
    const retries: number[] = [];
    services.stripe.inject({ kind: 500, route: 'POST /v1/invoices' });
    services.stripe.inject({ kind: 429, route: 'POST /v1/invoiceitems' });
    services.stripe.inject({ kind: 'drop', route: 'POST /v1/invoices/:id/finalize', afterProcessing: true });
    const stripe = stripeBilling(services.stripe.client(), {
      livemode: false,
      requestsPerSecond: Infinity,
      sleep: noWait,
      onRetry: (_error, attempt) => retries.push(attempt),
    });
    const outcome = await bill({ config, today: '2026-11-10', spends, stripe });
    expect(outcome.failures).toEqual([]);
    expect(invoices()).toHaveLength(1);
    expect(invoices()[0]).toMatchObject({ status: 'open', emails_sent: 1, amount_due: 9800 });
    expect(retries.length).toBeGreaterThanOrEqual(2);
    const finalizes = services.stripe.requests.entries.filter((entry) => entry.route === 'POST /v1/invoices/:id/finalize');
    expect(finalizes.some((entry) => entry.replayed)).toBe(true);
    expect(new Set(finalizes.map((entry) => entry.idempotencyKey)).size).toBe(1);
  });
});

describe('true-up after the period closes', () => {
  const config = billingConfig([acme]);
  const monthOf = (amount: string) => [{ id: 'acme', daily: days(30, amount) }];

  it('does nothing before billing.trueUpDay of the next month and says when the true-up opens', async () => {
    await bill({ config, today: '2026-11-30', spends: [{ id: 'acme', daily: days(29, '10') }] });
    const early = await bill({ config, today: '2026-12-02', period: '2026-11', mode: 'true-up', spends: monthOf('10') });
    expect(early.notice).toBe('The true-up of 2026-11 opens on 2026-12-03 (billing.trueUpDay), when Cost Explorer data has settled: nothing was billed.');
    expect(early.plan.customers).toEqual([]);
    expect(invoices()).toHaveLength(1);
  });

  it('bills the final difference when the settled cost is higher', async () => {
    await bill({ config, today: '2026-11-30', spends: [{ id: 'acme', daily: days(29, '10') }] });
    // 290 * 1.1 = 319 -> 219.00 billed during the month; final 300 * 1.1 = 330 -> 230.00.
    expect(itemAmounts(acme.stripeCustomerId)).toEqual([21900]);
    const trueUp = await bill({ config, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: monthOf('10') });
    expect(trueUp.invoices.map((invoice) => invoice.amountMinor)).toEqual([1100]);
    const again = await bill({ config, today: '2026-12-04', period: '2026-11', mode: 'true-up', spends: monthOf('10') });
    expect(again.invoices).toHaveLength(0);
    expect(again.notice).toBe('The true-up of 2026-11 is done for every customer: nothing to bill, no costs loaded.');
  });

  it('credits the customer balance when the settled cost is lower, never a negative invoice', async () => {
    await bill({ config, today: '2026-11-30', spends: [{ id: 'acme', daily: days(29, '10') }] });
    const trueUp = await bill({ config, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: [{ id: 'acme', daily: [...days(29, '9'), '0'] }] });
    // Final 261 * 1.1 = 287.10 -> 187.10 overage; 219.00 was billed: 31.90 credited.
    expect(trueUp.credits).toMatchObject([{ amountMinor: 3190, currency: 'usd' }]);
    expect(invoices()).toHaveLength(1);
    expect(itemAmounts(acme.stripeCustomerId).every((amount) => Number(amount) > 0)).toBe(true);
    expect(services.stripe.state.customers.get(acme.stripeCustomerId)?.balance).toBe(-3190);
    const rerun = await bill({ config, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: [{ id: 'acme', daily: [...days(29, '9'), '0'] }] });
    expect(rerun.credits).toHaveLength(0);
    expect(services.stripe.state.balanceTransactions.size).toBe(1);
  });
});

describe('true-up rules', () => {
  const config = billingConfig([acme]);
  const monthOf = (amount: string) => [{ id: 'acme', daily: days(30, amount) }];

  it("waits with a notice while the closed month's costs are still Cost Explorer estimates", async () => {
    await bill({ config, today: '2026-11-30', spends: [{ id: 'acme', daily: days(29, '10') }] });
    const snapshot = { ...costSnapshot(config, '2026-11', '2026-12-03', monthOf('10')), estimated: true };
    const early = await bill({ config, today: '2026-12-03', period: '2026-11', mode: 'true-up', snapshot });
    expect(early.notice).toContain('still holds Cost Explorer estimates');
    expect(early.invoices).toHaveLength(0);
    expect(invoices()).toHaveLength(1);
  });

  it("loads no costs once every customer's true-up is done", async () => {
    await bill({ config, today: '2026-11-30', spends: [{ id: 'acme', daily: days(29, '10') }] });
    await bill({ config, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: monthOf('10') });
    let loaded = 0;
    const now = new Date('2026-12-04T07:00:00Z');
    const later = await runBilling(
      {
        loadCosts: async () => {
          loaded += 1;
          return costSnapshot(config, '2026-11', '2026-12-04', monthOf('10'));
        },
        ledger: dynamoLedger(services.dynamo, TABLE),
        stripe: stripePort(),
      },
      config,
      { mode: 'true-up', period: parsePeriod('2026-11', now), now, dryRun: false },
    );
    expect(loaded).toBe(0);
    expect(later.notice).toBe('The true-up of 2026-11 is done for every customer: nothing to bill, no costs loaded.');
  });

  it('closes the period with an empty true-up entry when there is nothing to settle, so later runs load no costs', async () => {
    const month = [{ id: 'acme', daily: days(30, '10') }];
    await bill({ config, today: '2026-12-01', period: '2026-11', spends: month });
    const requests = services.stripe.requests.total;
    const trueUp = await bill({ config, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: month });
    expect(trueUp.invoices).toHaveLength(0);
    expect(services.stripe.requests.total).toBe(requests);
    const [entry] = (await dynamoLedger(services.dynamo, TABLE).read('acme', '2026-11')).entries.filter((item) => item.entryId === 'true-up');
    expect(entry).toMatchObject({ amountMinor: 0, status: 'completed' });
    let loaded = 0;
    const now = new Date('2026-12-04T07:00:00Z');
    const later = await runBilling(
      {
        loadCosts: async () => {
          loaded += 1;
          return costSnapshot(config, '2026-11', '2026-12-04', month);
        },
        ledger: dynamoLedger(services.dynamo, TABLE),
        stripe: stripePort(),
      },
      config,
      { mode: 'true-up', period: parsePeriod('2026-11', now), now, dryRun: false },
    );
    expect(loaded).toBe(0);
    expect(later.notice).toContain('done for every customer');
  });

  it('bills again at the true-up what a voided invoice billed during the month', async () => {
    await bill({ config, today: '2026-11-30', spends: [{ id: 'acme', daily: days(29, '10') }] });
    const [voided] = invoices();
    await services.dynamo.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: invoiceKey(String(voided?.id)),
        UpdateExpression: 'SET #status = :void, statusRank = :rank',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':void': 'void', ':rank': 5 },
      }),
    );
    const trueUp = await bill({ config, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: monthOf('10') });
    // Final 300 * 1.1 = 330 -> 230.00 overage; the voided 219.00 counts for nothing.
    expect(trueUp.invoices.map((invoice) => invoice.amountMinor)).toEqual([23000]);
  });
});

describe('currency', () => {
  it('refuses a customer billed in another currency than Cost Explorer reports, and bills the others', async () => {
    const config = billingConfig([acme, { ...globex, currency: 'eur' }]);
    const outcome = await bill({
      config,
      today: '2026-11-10',
      spends: [
        { id: 'acme', daily: days(9, '20') },
        { id: 'globex', daily: days(9, '20') },
      ],
    });
    expect(outcome.invoices.map((invoice) => invoice.customerId)).toEqual(['acme']);
    expect(outcome.failures).toEqual([
      {
        customerId: 'globex',
        name: 'Globex',
        message: 'costs are reported in USD; customer globex is billed in eur; set its currency to usd — no conversion is done',
      },
    ]);
    expect(invoicesOf(globex.stripeCustomerId)).toHaveLength(0);
  });
});

describe('true-up credit after a crash', () => {
  it('finds the credit an interrupted run made instead of crediting twice', async () => {
    const config = billingConfig([acme]);
    await bill({ config, today: '2026-11-30', spends: [{ id: 'acme', daily: days(29, '10') }] });
    const crashing: LedgerPort = { ...dynamoLedger(services.dynamo, TABLE), complete: async () => Promise.reject(new Error('runner lost')) };
    const lower = [{ id: 'acme', daily: [...days(29, '9'), '0'] }];
    const crashed = await bill({ config, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: lower, ledger: crashing });
    expect(crashed.failures).toHaveLength(1);
    services.stripe.forgetIdempotencyKeys();
    const resumed = await bill({ config, today: '2026-12-04', period: '2026-11', mode: 'true-up', spends: lower });
    expect(resumed.credits).toMatchObject([{ amountMinor: 3190 }]);
    expect(services.stripe.state.balanceTransactions.size).toBe(1);
    expect(services.stripe.state.customers.get(acme.stripeCustomerId)?.balance).toBe(-3190);
  });
});

describe('meter mode', () => {
  const config = billingConfig([initech]);
  const meterValues = () => [...services.stripe.state.meterEvents.values()].map((event) => [event.identifier, (event.payload as Record<string, string>).value]);

  it("reports each day's overage increase once, with an identifier per customer, period and day", async () => {
    services.stripe.setNow(new Date('2026-11-06T07:00:00Z'));
    // initech: allowance 20, markup 5 %: 10.00 a day is 10.50 with markup; the allowance is used up on day 2.
    const first = await bill({ config, today: '2026-11-05', spends: [{ id: 'initech', daily: days(4, '10') }] });
    expect(first.meterEvents).toBe(3);
    expect(meterValues()).toEqual([
      ['initech:2026-11:meter-2026-11-02', '100'],
      ['initech:2026-11:meter-2026-11-03', '1050'],
      ['initech:2026-11:meter-2026-11-04', '1050'],
    ]);
    expect(invoices()).toHaveLength(0);

    const rerun = await bill({ config, today: '2026-11-05', spends: [{ id: 'initech', daily: days(4, '10') }] });
    expect(rerun.meterEvents).toBe(0);
    expect(services.stripe.requests.count('POST /v1/billing/meter_events')).toBe(3);

    const nextDay = await bill({ config, today: '2026-11-06', spends: [{ id: 'initech', daily: days(5, '10') }] });
    expect(nextDay.meterEvents).toBe(1);
    expect(meterValues().at(-1)).toEqual(['initech:2026-11:meter-2026-11-05', '1050']);
  });

  it('reports a higher final overage as one true-up event at the end of the period, a lower one as a credit', async () => {
    services.stripe.setNow(new Date('2026-12-03T07:00:00Z'));
    await bill({ config, today: '2026-11-05', spends: [{ id: 'initech', daily: days(4, '10') }] });
    const up = await bill({ config, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: [{ id: 'initech', daily: days(5, '10') }] });
    expect(up.meterEvents).toBe(1);
    const trueUp = services.stripe.state.meterEvents.get('initech:2026-11:true-up');
    expect(trueUp).toMatchObject({ payload: { value: '1050' }, timestamp: Date.parse('2026-12-01T00:00:00Z') / 1000 - 1 });
    expect(invoices()).toHaveLength(0);
  });

  it('credits the customer balance when the final overage is below what the meter events reported', async () => {
    services.stripe.setNow(new Date('2026-12-03T07:00:00Z'));
    await bill({ config, today: '2026-11-05', spends: [{ id: 'initech', daily: days(4, '10') }] });
    // Reported 22.00 for days 2-4; settled data says 3 days of 10: 31.50 - 20 = 11.50, so 10.50 comes back.
    const down = await bill({ config, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: [{ id: 'initech', daily: days(3, '10') }] });
    expect(down.credits).toMatchObject([{ customerId: 'initech', amountMinor: 1050 }]);
    expect(down.meterEvents).toBe(0);
    expect(services.stripe.state.customers.get(initech.stripeCustomerId)?.balance).toBe(-1050);
  });

  it('sends a resumed meter event again with the same identifier, so Stripe counts it once', async () => {
    services.stripe.setNow(new Date('2026-11-06T07:00:00Z'));
    const ledger = dynamoLedger(services.dynamo, TABLE);
    const crashing: LedgerPort = { ...ledger, complete: async () => Promise.reject(new Error('runner lost')) };
    await bill({ config, today: '2026-11-03', spends: [{ id: 'initech', daily: days(2, '10') }], ledger: crashing });
    services.stripe.forgetIdempotencyKeys();
    const resumed = await bill({ config, today: '2026-11-03', spends: [{ id: 'initech', daily: days(2, '10') }] });
    expect(resumed.meterEvents).toBe(1);
    expect(services.stripe.requests.count('POST /v1/billing/meter_events')).toBe(2);
    expect(meterValues()).toEqual([['initech:2026-11:meter-2026-11-02', '100']]);
  });
});

describe('dry run and failures', () => {
  it('dry run plans without writing to Stripe or the billing table', async () => {
    const config = billingConfig([acme, globex]);
    const outcome = await bill({
      config,
      today: '2026-11-10',
      spends: [
        { id: 'acme', daily: days(9, '20') },
        { id: 'globex', daily: days(9, '1') },
      ],
      dryRun: true,
    });
    expect(outcome.plan.customers.map((plan) => [plan.customerId, plan.amountNowMinor])).toEqual([
      ['acme', 9800],
      ['globex', 0],
    ]);
    expect(services.stripe.requests.total).toBe(0);
    expect(await scanTable(services.dynamo, TABLE)).toEqual([]);
  });

  it('bills the other customers when one fails permanently, and leaves no pending entry for it', async () => {
    const ghost = { ...globex, id: 'ghost', name: 'Ghost Ltd', match: '444444444444', stripeCustomerId: 'cus_doesnotexist' };
    const config = billingConfig([ghost, acme]);
    const outcome = await bill({
      config,
      today: '2026-11-10',
      spends: [
        { id: 'ghost', daily: days(9, '20') },
        { id: 'acme', daily: days(9, '20') },
      ],
    });
    expect(outcome.invoices.map((invoice) => invoice.customerId)).toEqual(['acme']);
    expect(outcome.failures).toHaveLength(1);
    expect(outcome.failures[0]).toMatchObject({ customerId: 'ghost' });
    expect(outcome.failures[0]?.message).toContain("No such customer: 'cus_doesnotexist'");
    expect(outcome.failures[0]?.message).toContain('stripeCustomerId');
    const ledgerItems = (await scanTable(services.dynamo, TABLE)).filter((item) => item.recordType === 'ledger');
    expect(ledgerItems.map((item) => item.customerId)).toEqual(['acme']);
  });

  it('bills a fixed amount once however often the same manual dispatch runs', async () => {
    const config = billingConfig([acme]);
    const extra = { customerId: 'acme', fixedCharge: { amount: parseAmount('250.01'), description: 'Migration support, November' } };
    const first = await bill({ config, today: '2026-11-10', mode: 'fixed-amount', extra });
    const again = await bill({ config, today: '2026-11-12', mode: 'fixed-amount', extra });
    expect(first.invoices.map((invoice) => invoice.amountMinor)).toEqual([25001]);
    expect(again.invoices).toHaveLength(0);
    expect(invoices()).toHaveLength(1);
    // A fixed charge is not overage: it does not reduce what the month's overage bills.
    const overage = await bill({ config, today: '2026-11-12', spends: [{ id: 'acme', daily: days(11, '20') }] });
    expect(overage.invoices.map((invoice) => invoice.amountMinor)).toEqual([14200]);
  });
});
