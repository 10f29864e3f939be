import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { invoiceRecord } from '../../src/billing/records.js';
import { invoiceKey } from '../../src/records/keys.js';
import { dynamoLedger } from '../../src/store/ledger.js';
import { memoryWebhookStore } from '../../src/store/memoryWebhookStore.js';
import { dynamoInvoiceStore } from '../../src/store/webhookStore.js';
import type { InvoiceEventType, StripeInvoice } from '../../src/webhooks/events.js';
import { invoiceNotification, invoiceUpdateFrom } from '../../src/webhooks/invoices.js';
import type { InvoiceStore, Notification } from '../../src/webhooks/ports.js';
import { acmeOverageEntry } from '../support/billing.js';
import { startMoto, type Moto } from '../support/moto.js';
import { webhookTables } from '../support/webhookTables.js';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

const entry = acmeOverageEntry;
const billedAt = new Date('2026-11-10T07:00:05Z');
const webhookAt = Date.parse('2026-11-10T07:00:30Z');
const invoice: StripeInvoice = {
  id: 'in_owner1',
  customer: 'cus_acme0001',
  status: 'paid',
  amount_due: 9800,
  amount_paid: 9800,
  currency: 'usd',
  hosted_invoice_url: 'https://invoice.stripe.com/i/owner1',
  metadata: { customerId: 'acme', period: '2026-11', ledgerEntry: 'acme/2026-11/overage-2026-11-10' },
};

/** The webhook's side: each event applied in turn, the notifications it would publish collected. */
async function deliver(store: InvoiceStore, types: readonly InvoiceEventType[]): Promise<Notification[]> {
  const notifications: Notification[] = [];
  for (const [index, type] of types.entries()) {
    const update = invoiceUpdateFrom({ id: `evt_owner${index}`, type, created: 1_794_300_000 + index }, invoice);
    const notification = invoiceNotification(update, await store.applyInvoiceUpdate(update, webhookAt), false);
    if (notification) notifications.push(notification);
  }
  return notifications;
}

// Stripe may report an invoice paid at once (charge_automatically against a customer balance).
const billingRecord = () =>
  invoiceRecord(entry, { invoiceId: 'in_owner1', status: 'paid', hostedInvoiceUrl: invoice.hosted_invoice_url, amountDue: 9700, currency: 'usd' }, billedAt);

describe('the invoice record shared by billing and the webhook handler', () => {
  let documents: DynamoDBDocumentClient;
  let billingTable: string;
  beforeEach(async () => {
    ({
      documents,
      tables: { billingTable },
    } = await webhookTables(moto.endpoint));
  });
  const record = async () => (await documents.send(new GetCommand({ TableName: billingTable, Key: invoiceKey('in_owner1'), ConsistentRead: true }))).Item;
  const expected = {
    customerId: 'acme',
    period: '2026-11',
    ledgerEntry: 'acme/2026-11/overage-2026-11-10',
    gsi1pk: 'CUSTOMER#acme',
    gsi1sk: 'PERIOD#2026-11#INVOICE#in_owner1',
    status: 'paid',
    statusRank: 5,
    amountDue: 9800,
    amountPaid: 9800,
    updatedAt: new Date(webhookAt).toISOString(),
    hostedInvoiceUrl: invoice.hosted_invoice_url,
  };

  it('billing first: the webhook moves the status on and announces the payment once, with our customer id', async () => {
    await dynamoLedger(documents, billingTable).recordInvoice(billingRecord());
    expect(await record()).toMatchObject({ status: 'open', statusRank: 1 });
    const notifications = await deliver(dynamoInvoiceStore(documents, billingTable), ['invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
    expect(notifications.map((notification) => notification.attributes)).toEqual([expect.objectContaining({ type: 'payment-succeeded', customer: 'acme' })]);
    expect(await record()).toMatchObject(expected);
  });

  it('webhook first: billing adds its fields and sets back neither the status, the amounts nor updatedAt', async () => {
    const notifications = await deliver(dynamoInvoiceStore(documents, billingTable), ['invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
    expect(notifications.map((notification) => notification.attributes)).toEqual([expect.objectContaining({ type: 'payment-succeeded', customer: 'acme' })]);
    await dynamoLedger(documents, billingTable).recordInvoice(billingRecord());
    expect(await record()).toMatchObject(expected);
  });

  it('the in-memory store keeps the same rules: the metadata customer, one payment notice', async () => {
    const store = memoryWebhookStore();
    const notifications = await deliver(store.invoices, ['invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
    expect(notifications.map((notification) => notification.attributes)).toEqual([expect.objectContaining({ type: 'payment-succeeded', customer: 'acme' })]);
    expect(store.invoiceRecords.get('in_owner1')).toMatchObject({
      status: 'paid',
      customerId: 'acme',
      period: '2026-11',
      ledgerEntry: 'acme/2026-11/overage-2026-11-10',
    });
  });
});
