import { describe, expect, it } from 'vitest';
import { dataWindow, monthPeriod, parsePeriod, periodLabel, previousPeriod } from '../../src/period.js';

const now = new Date('2026-11-29T06:00:00Z');

describe('billing period', () => {
  it('reads current, previous and YYYY-MM', () => {
    expect(parsePeriod('current', now).id).toBe('2026-11');
    expect(parsePeriod('previous', now).id).toBe('2026-10');
    expect(parsePeriod('2026-02', now)).toEqual({ id: '2026-02', start: '2026-02-01', endExclusive: '2026-03-01', daysInMonth: 28 });
    expect(previousPeriod(monthPeriod(2026, 1)).id).toBe('2025-12');
  });

  it('names the input, the value and the accepted form', () => {
    expect(() => parsePeriod('2026-13', now, 'input period')).toThrow(
      'input period "2026-13" is not a billing period: use "current", "previous" or a month as YYYY-MM (e.g. 2026-11)',
    );
    expect(() => parsePeriod('2027-01', now)).toThrow('period "2027-01" is in the future (today is 2026-11-29)');
  });

  it('queries up to yesterday in a running month and the whole of a closed one', () => {
    expect(dataWindow(monthPeriod(2026, 11), now)).toEqual({ start: '2026-11-01', endExclusive: '2026-11-29', complete: false });
    expect(dataWindow(monthPeriod(2026, 10), now)).toEqual({ start: '2026-10-01', endExclusive: '2026-11-01', complete: true });
    expect(dataWindow(monthPeriod(2026, 11), new Date('2026-11-01T06:00:00Z'))).toEqual({ start: '2026-11-01', endExclusive: '2026-11-01', complete: false });
  });

  it('labels a period with its English month name and year, whatever the month', () => {
    expect(periodLabel('2026-11')).toBe('November 2026');
    expect(periodLabel('2027-01')).toBe('January 2027');
    const months = Array.from({ length: 12 }, (_, index) => periodLabel(`2026-${String(index + 1).padStart(2, '0')}`).split(' ')[0]);
    expect(months).toEqual(['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']);
  });
});
