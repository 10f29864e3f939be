import { describe, expect, it } from 'vitest';
import { ALERT_CONCURRENCY, alertNotification, dispatchAlerts, SENT_PER_WRITE, type AlertMarkerStore } from '../../../src/alerts/dispatch.js';
import { crossedLevels, type BudgetAlert } from '../../../src/alerts/evaluate.js';
import type { Notification } from '../../../src/notifications.js';
import { budgetAlert } from '../../support/alerts.js';
import { demoConfig, demoSnapshot } from '../../support/snapshots.js';

function memoryMarkers() {
  const markers = new Map<string, { status: 'claimed' | 'sent'; token: string }>();
  const id = (a: BudgetAlert) => `${a.period}/${a.scope}/${a.kind}/${a.level}`;
  let claims = 0;
  let periodReads = 0;
  const sentWrites: number[] = [];
  const store: AlertMarkerStore = {
    async claim(alert, at) {
      if (markers.has(id(alert))) return undefined;
      const token = `claim-${++claims}`;
      markers.set(id(alert), { status: 'claimed', token });
      return { token, claimedAt: at.toISOString() };
    },
    async markSent(sent) {
      sentWrites.push(sent.length);
      for (const { alert, claim } of sent) markers.set(id(alert), { status: 'sent', token: claim.token });
    },
    async release(alert, claim) {
      if (markers.get(id(alert))?.token === claim.token) markers.delete(id(alert));
    },
    async wasSent(alert) {
      return markers.get(id(alert))?.status === 'sent';
    },
    async sentInPeriod(period) {
      periodReads++;
      const sent = [...markers].filter(([key, m]) => key.startsWith(`${period}/`) && m.status === 'sent');
      return new Set(sent.map(([key]) => key.split('/').slice(1).join('#')));
    },
  };
  return { store, markers, claims: () => claims, periodReads: () => periodReads, sentWrites };
}

const now = new Date('2026-11-15T06:00:00Z');

describe('budget alerts', () => {
  it('finds each level reached by the total and by each customer, forecast levels included', async () => {
    const alerts = crossedLevels(await demoSnapshot(), demoConfig);
    expect(alerts.map((a) => `${a.scope} ${a.kind} ${a.level}`)).toEqual(['TOTAL actual 50', 'TOTAL forecast 100', 'acme actual 50', 'acme forecast 100']);
  });

  it("compares a customer's charge (cost with markup), not its cost, with the allowance: acme on 2026-11-21", async () => {
    // acme: cost $764.36 is 95.5 % of its $800 allowance, but with its 10 % markup it is charged $840.79 (105.1 %).
    const alerts = crossedLevels(await demoSnapshot({ now: new Date('2026-11-21T06:00:00Z'), threshold: 2000 }), demoConfig);
    const acme = alerts.filter((a) => a.scope === 'acme');
    expect(acme.map((a) => `${a.kind} ${a.level}`)).toEqual(['actual 50', 'actual 80', 'actual 100', 'forecast 100']);
    expect(acme[2]).toMatchObject({ amount: 840_791_411, limit: 800_000_000 });
  });

  it('raises a level as soon as the charge reaches it exactly, and not one micro-unit before', async () => {
    const snapshot = await demoSnapshot();
    // Without markup, so that the charge is the cost to the micro-unit.
    const config = { ...demoConfig, customers: demoConfig.customers.map((customer) => ({ ...customer, markupPercent: 0 })) };
    const levels = (totalCost: number, acmeCost: number) =>
      crossedLevels(
        {
          ...snapshot,
          window: { ...snapshot.window, complete: true },
          total: { ...snapshot.total, cost: totalCost, threshold: 1_000_000_000 },
          customers: snapshot.customers.map((customer) => ({ ...customer, cost: customer.customerId === 'acme' ? acmeCost : 0, allowance: 400_000_000 })),
        },
        config,
      ).map((a) => `${a.scope} ${a.kind} ${a.level}`);
    // 50 % of a 1000.000000 threshold is 500.000000; 50 % of acme's 400.000000 allowance is 200.000000.
    expect(levels(500_000_000, 200_000_000)).toEqual(['TOTAL actual 50', 'acme actual 50']);
    expect(levels(499_999_999, 199_999_999)).toEqual([]);
  });

  it('raises no forecast alert for a closed month and none for a zero limit', async () => {
    const snapshot = await demoSnapshot();
    const closed = { ...snapshot, window: { ...snapshot.window, complete: true } };
    expect(crossedLevels(closed, demoConfig).some((a) => a.kind === 'forecast')).toBe(false);
    const noThreshold = { ...snapshot, total: { ...snapshot.total, threshold: 0 } };
    expect(crossedLevels(noThreshold, demoConfig).some((a) => a.scope === 'TOTAL')).toBe(false);
  });

  it('publishes each level once per period: a second run sends nothing new', async () => {
    const alerts = crossedLevels(await demoSnapshot(), demoConfig);
    const { store } = memoryMarkers();
    const published: Notification[] = [];
    const publish = async (n: Notification) => (published.push(n), { messageId: `m${published.length}` });
    const first = await dispatchAlerts(alerts, { markers: store, publish, dryRun: false, now });
    const second = await dispatchAlerts(alerts, { markers: store, publish, dryRun: false, now });
    expect(first.map((o) => o.status)).toEqual(Array(alerts.length).fill('sent'));
    expect(second.map((o) => o.status)).toEqual(Array(alerts.length).fill('already-sent'));
    expect(published).toHaveLength(alerts.length);
  });

  it('reads the period once and claims nothing on a run with nothing new, however many alerts', async () => {
    const alerts = crossedLevels(await demoSnapshot(), demoConfig);
    const { store, claims, periodReads } = memoryMarkers();
    await dispatchAlerts(alerts, { markers: store, publish: async () => ({ messageId: 'm' }), dryRun: false, now });
    expect([claims(), periodReads()]).toEqual([alerts.length, 1]);
    await dispatchAlerts(alerts, { markers: store, publish: async () => ({ messageId: 'm' }), dryRun: false, now });
    expect([claims(), periodReads()]).toEqual([alerts.length, 2]);
  });

  it(`publishes new alerts at most ${ALERT_CONCURRENCY} at a time and reports them in order`, async () => {
    const template = crossedLevels(await demoSnapshot(), demoConfig)[0]!;
    const alerts = Array.from({ length: 100 }, (_, i) => ({ ...template, scope: `c${i}` }));
    const { store } = memoryMarkers();
    let inFlight = 0;
    let most = 0;
    const publish = async (n: Notification) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      return { messageId: `m-${n.attributes.customer}` };
    };
    const outcomes = await dispatchAlerts(alerts, { markers: store, publish, dryRun: false, now });
    expect(most).toBe(ALERT_CONCURRENCY);
    expect(outcomes.map((o) => o.messageId)).toEqual(alerts.map((a) => `m-${a.scope}`));
  });

  it(`records published alerts as sent ${SENT_PER_WRITE} to a write, all of them before it returns`, async () => {
    const template = crossedLevels(await demoSnapshot(), demoConfig)[0]!;
    const alerts = Array.from({ length: 60 }, (_, i) => ({ ...template, scope: `c${i}` }));
    const { store, markers, sentWrites } = memoryMarkers();
    await dispatchAlerts(alerts, { markers: store, publish: async () => ({ messageId: 'm' }), dryRun: false, now });
    expect(sentWrites).toEqual([25, 25, 10]);
    expect([...markers.values()].filter((m) => m.status === 'sent')).toHaveLength(60);
  });

  it('fails the dispatch when recording alerts as sent fails, once every alert has been tried', async () => {
    const template = crossedLevels(await demoSnapshot(), demoConfig)[0]!;
    const alerts = Array.from({ length: 30 }, (_, i) => ({ ...template, scope: `c${i}` }));
    const { store } = memoryMarkers();
    const published: string[] = [];
    const failing: AlertMarkerStore = { ...store, markSent: async () => Promise.reject(new Error('table throttled')) };
    const publish = async (n: Notification) => (published.push(n.attributes.customer!), { messageId: 'm' });
    await expect(dispatchAlerts(alerts, { markers: failing, publish, dryRun: false, now })).rejects.toThrow('table throttled');
    expect(published).toHaveLength(30);
  });

  it('gives the claim back when publishing fails, sends the others, and the next run sends it', async () => {
    const [first, second] = crossedLevels(await demoSnapshot(), demoConfig);
    const { store, markers } = memoryMarkers();
    const failOnce = async (n: Notification) => {
      if (n.attributes.level === String(first!.level) && n.attributes.kind === first!.kind) throw new Error('SNS is down');
      return { messageId: 'm2' };
    };
    const outcomes = await dispatchAlerts([first!, second!], { markers: store, publish: failOnce, dryRun: false, now });
    expect(outcomes.map((o) => [o.status, o.error])).toEqual([
      ['failed', 'SNS is down'],
      ['sent', undefined],
    ]);
    expect([...markers.values()].map((m) => m.status)).toEqual(['sent']);
    const retried = await dispatchAlerts([first!, second!], { markers: store, publish: async () => ({ messageId: 'm1' }), dryRun: false, now });
    expect(retried.map((o) => o.status)).toEqual(['sent', 'already-sent']);
  });

  it('writes and publishes nothing in a dry run, yet knows what was sent before', async () => {
    const alerts = crossedLevels(await demoSnapshot(), demoConfig);
    const { store, markers } = memoryMarkers();
    await store.markSent([{ alert: alerts[0]!, claim: (await store.claim(alerts[0]!, now))!, messageId: 'm0' }], now);
    await store.claim(alerts[1]!, now);
    const published: Notification[] = [];
    const outcomes = await dispatchAlerts(alerts, { markers: store, publish: async (n) => (published.push(n), { messageId: 'x' }), dryRun: true, now });
    // A claim that never became a publish is not "sent": the dry run says it would still go out.
    expect(outcomes.map((o) => o.status)).toEqual(['already-sent', ...Array(alerts.length - 1).fill('would-send')]);
    expect(published).toEqual([]);
    expect(markers.size).toBe(2);
  });

  it('raises each level once without a topic: in the summary, then as raised earlier', async () => {
    const alerts = crossedLevels(await demoSnapshot(), demoConfig);
    const { store, markers } = memoryMarkers();
    const first = await dispatchAlerts(alerts, { markers: store, publish: undefined, dryRun: false, now });
    expect(first.every((o) => o.status === 'summary-only')).toBe(true);
    expect(markers.size).toBe(alerts.length);

    const second = await dispatchAlerts(alerts, { markers: store, publish: async () => ({ messageId: 'm1' }), dryRun: false, now });
    expect(second.every((o) => o.status === 'already-sent')).toBe(true);
  });

  it('tells subscribers what happened and lets them filter by attributes', () => {
    const notification = alertNotification(budgetAlert({ scopeName: 'Acme Corp', amount: 812_340_000, limit: 800_000_000 }));
    expect(notification).toEqual({
      subject: 'AWS cost alert: Acme Corp at 80% of allowance (2026-11)',
      message:
        'Acme Corp: charge to date for 2026-11 is $812.34, 80% or more of the allowance of $800.00.\nCost Explorer marks this data as Estimated; it may still change.',
      attributes: { type: 'budget-alert', customer: 'acme', kind: 'actual', level: '80', period: '2026-11' },
    });
  });
});
