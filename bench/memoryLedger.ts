import type { LedgerEntry, LedgerPort } from '../src/billing/types.js';
import { countsTowardsOverage, type InvoiceRecord } from '../src/records/schema.js';

/**
 * The billing ledger in memory, with the DynamoDB adapter's rules (entry ids are unique, a reservation that counts
 * towards the overage needs the head's version, only a pending entry completes or is released), counting the
 * DynamoDB requests the adapter would make: one per call, two for a reservation that loses. The benchmark measures billing and Stripe, not an
 * emulator; the integration tests run the real adapter against moto.
 */
export function countingMemoryLedger(): { ledger: LedgerPort; requests: () => number } {
  const entries = new Map<string, LedgerEntry>();
  const versions = new Map<string, number>();
  const invoices = new Map<string, InvoiceRecord>();
  let requests = 0;
  const entryKey = (entry: Pick<LedgerEntry, 'customerId' | 'period' | 'entryId'>) => `${entry.customerId}/${entry.period}/${entry.entryId}`;
  const headKey = (customerId: string, period: string) => `${customerId}/${period}`;

  const ledger: LedgerPort = {
    async read(customerId, period) {
      requests += 1;
      const ofPeriod = [...entries.values()].filter((entry) => entry.customerId === customerId && entry.period === period);
      return { entries: ofPeriod, version: versions.get(headKey(customerId, period)) ?? 0 };
    },
    async reserve(entry, version) {
      requests += 1;
      const existing = entries.get(entryKey(entry));
      if (existing) {
        requests += 1; // the adapter reads the entry that won
        return { reserved: false, existing };
      }
      if (!countsTowardsOverage(entry.kind)) {
        entries.set(entryKey(entry), entry);
        return { reserved: true, version };
      }
      const head = headKey(entry.customerId, entry.period);
      if ((versions.get(head) ?? 0) !== version) {
        requests += 1;
        return { reserved: false };
      }
      entries.set(entryKey(entry), entry);
      versions.set(head, version + 1);
      return { reserved: true, version: version + 1 };
    },
    async complete(entry, result, at) {
      requests += 1;
      const stored = entries.get(entryKey(entry));
      if (stored?.status !== 'pending') return false;
      entries.set(entryKey(entry), { ...stored, ...result, status: 'completed', completedAt: at.toISOString() });
      return true;
    },
    async release(entry) {
      requests += 1;
      if (entries.get(entryKey(entry))?.status !== 'pending') return;
      entries.delete(entryKey(entry));
      const head = headKey(entry.customerId, entry.period);
      if (countsTowardsOverage(entry.kind)) versions.set(head, (versions.get(head) ?? 0) + 1);
    },
    async recordInvoice(record) {
      requests += 1;
      invoices.set(record.invoiceId, record);
    },
    async invoiceStatus(invoiceId) {
      requests += 1;
      return invoices.get(invoiceId)?.status;
    },
  };
  return { ledger, requests: () => requests };
}
