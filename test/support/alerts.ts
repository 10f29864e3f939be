import type { BudgetAlert } from '../../src/alerts/evaluate.js';

/** A customer's 80 % alert on its November charge, with the fields a test cares about overridden. */
export function budgetAlert(overrides: Partial<BudgetAlert> = {}): BudgetAlert {
  return {
    period: '2026-11',
    scope: 'acme',
    scopeName: 'Acme',
    kind: 'actual',
    level: 80,
    amount: 1,
    limit: 1,
    currency: 'usd',
    estimated: true,
    ...overrides,
  };
}
