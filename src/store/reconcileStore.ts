import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ReconcileStore } from '../reconcile/ports.js';
import { dynamoLedger } from './ledger.js';
import { dynamoInvoiceStore } from './webhookStore.js';

/** Reconciliation's view of the billing table: the ledger's reads and the webhook handler's forward-only update. */
export function dynamoReconcileStore(dynamo: DynamoDBDocumentClient, tableName: string): ReconcileStore {
  const ledger = dynamoLedger(dynamo, tableName);
  const invoices = dynamoInvoiceStore(dynamo, tableName);
  return {
    readLedger: async (customerId, period) => (await ledger.read(customerId, period)).entries,
    invoiceStatus: (invoiceId) => ledger.invoiceStatus(invoiceId),
    applyInvoiceUpdate: (update, nowMs) => invoices.applyInvoiceUpdate(update, nowMs),
  };
}
