import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { applyMarkup, formatMoney, fromMinorUnits, fromUnits, MoneyError, parseAmount, sum, toDecimalString, toMinorUnits } from '../../src/money.js';

const micros = fc.integer({ min: -1e13, max: 1e13 });

describe('money', () => {
  it('parses Cost Explorer amounts exactly, rounding half away from zero at the sixth decimal', () => {
    expect(parseAmount('12.3456789012')).toBe(12_345_679);
    expect(parseAmount('0.0000004999')).toBe(0);
    expect(parseAmount('0.0000005')).toBe(1);
    expect(parseAmount('-0.0000005')).toBe(-1);
    expect(parseAmount('800')).toBe(800_000_000);
  });

  it('names the bad value and the accepted form', () => {
    expect(() => parseAmount('12,50')).toThrow(new MoneyError('amount "12,50" is not a decimal number such as "12.34"'));
    expect(() => parseAmount('1e5')).toThrow(MoneyError);
  });

  test.prop([micros])('prints and parses back to the same micros', (amount) => {
    expect(parseAmount(toDecimalString(amount))).toBe(amount);
  });

  test.prop([fc.array(fc.tuple(fc.nat(99_999), fc.nat(9_999_999_999)), { maxLength: 400 })])(
    'sums many ten-decimal amounts exactly where floats drift',
    (parts) => {
      const texts = parts.map(([whole, fraction]) => `${whole}.${String(fraction).padStart(10, '0')}`);
      const exact = texts.reduce((total, text) => total + BigInt(parseAmount(text)), 0n);
      expect(BigInt(sum(texts.map(parseAmount)))).toBe(exact);
    },
  );

  it('converts to Stripe minor units with one rounding rule, zero-decimal currencies included', () => {
    expect(toMinorUnits(parseAmount('10.005'), 'usd')).toBe(1001);
    expect(toMinorUnits(parseAmount('10.004999'), 'usd')).toBe(1000);
    expect(toMinorUnits(parseAmount('-10.005'), 'usd')).toBe(-1001);
    expect(toMinorUnits(parseAmount('1234.5'), 'jpy')).toBe(1235);
    expect(fromMinorUnits(1001, 'usd')).toBe(10_010_000);
  });

  test.prop([fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: -9999, max: 100_000 }).map((bp) => bp / 100)])(
    'applies a markup as cost × (100 + markup) / 100 rounded to the nearest micro',
    (amount, markupPercent) => {
      const exact = (BigInt(amount) * BigInt(Math.round(10_000 + markupPercent * 100)) * 2n + 10_000n) / 20_000n;
      expect(BigInt(applyMarkup(amount, markupPercent))).toBe(exact);
    },
  );

  it('formats for people', () => {
    expect(formatMoney(fromUnits(1234567.891), 'usd')).toBe('$1,234,567.89');
    expect(formatMoney(fromUnits(-5), 'eur')).toBe('-5.00 EUR');
    expect(formatMoney(fromUnits(1500), 'jpy')).toBe('1,500 JPY');
  });

  it('refuses amounts it cannot hold exactly', () => {
    expect(() => parseAmount('99999999999.000001')).toThrow(/too large/);
  });
});
