import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBillingConfig, parseBillingConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

const valid = `
currency: usd
allocation: LINKED_ACCOUNT
customers:
  - id: acme
    name: Acme Corp
    match: "111111111111"
    stripeCustomerId: cus_Q1a2b3
    allowance: 800
    markupPercent: 10
`;

function problems(yaml: string): readonly string[] {
  try {
    parseBillingConfig(yaml);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

describe('billing config', () => {
  it('fills the documented defaults', () => {
    const config = parseBillingConfig(valid);
    expect(config.alertLevels).toEqual([50, 80, 100]);
    expect(config.forecastAlertLevels).toEqual([100]);
    expect(config.excludeRecordTypes).toEqual(['Credit', 'Refund']);
    expect(config.billing).toEqual({
      minimumInvoiceAmount: 1_000_000,
      trueUpDay: 3,
      collectionMethod: 'send_invoice',
      daysUntilDue: 30,
      invoiceServiceLines: 5,
    });
    expect(config.customers[0]).toMatchObject({ id: 'acme', allowance: 800_000_000, currency: 'usd', mode: 'invoice', markupPercent: 10 });
  });

  it('names the field, the value and the accepted form', () => {
    expect(problems(valid.replace('cus_Q1a2b3', 'acme-stripe'))).toEqual([
      'customers[0].stripeCustomerId is "acme-stripe"; expected a Stripe customer id such as cus_Q1a2b3',
    ]);
    expect(problems(valid.replace('allowance: 800', 'allowance: "lots"'))).toEqual([
      'customers[0].allowance is "lots"; expected a monthly allowance as a number in the currency\'s units, such as 800 or 12.50',
    ]);
    expect(problems(valid.replace('"111111111111"', '"1111"'))).toEqual([
      'customers[0].match is "1111"; expected a 12-digit AWS account id in quotes, such as "111111111111"',
    ]);
    expect(problems(valid.replace('LINKED_ACCOUNT', 'ACCOUNT'))).toEqual([
      'allocation is "ACCOUNT"; expected LINKED_ACCOUNT, TAG:<key>, COST_CATEGORY:<name> or NONE',
    ]);
  });

  it("keeps the invoice's service lines within Stripe's 250 items per invoice", () => {
    const withLines = (value: string) => `billing:\n  invoiceServiceLines: ${value}\n${valid}`;
    expect(parseBillingConfig(withLines('249')).billing.invoiceServiceLines).toBe(249);
    expect(problems(withLines('250'))).toEqual([
      'billing.invoiceServiceLines is 250; expected at most 249 AWS services (Stripe takes 250 items per invoice, one is "Other AWS services")',
    ]);
    expect(problems(withLines('0'))).toEqual(['billing.invoiceServiceLines is 0; expected at least 1 AWS service']);
    expect(problems(withLines('2.5'))).toEqual(['billing.invoiceServiceLines is 2.5; expected a whole number of AWS services']);
    expect(problems(withLines('"five"'))).toEqual(['billing.invoiceServiceLines is "five"; expected a number of AWS services from 1 to 249 such as 5']);
  });

  it('reports every problem at once, unknown fields included', () => {
    const found = problems(`${valid}    alowance: 5\n  - id: Bad Id\n    name: x\n    stripeCustomerId: cus_abcd\n    allowance: -1\n`);
    expect(found).toEqual(
      expect.arrayContaining([
        'customers[0]: unknown field "alowance" (check the spelling against the README\'s configuration reference)',
        'customers[1].id is "Bad Id"; expected an id of lowercase letters, digits, - and _ (up to 63), such as acme',
        'customers[1].allowance is -1; expected a monthly allowance of 0 or more',
      ]),
    );
  });

  it('refuses two customers claiming the same cost, and meter mode without a meter', () => {
    const twice = `${valid}  - id: other\n    name: Other\n    match: "111111111111"\n    stripeCustomerId: cus_abcd\n    allowance: 1\n    mode: meter\n`;
    expect(problems(twice)).toEqual([
      'customers[1].meterEventName is missing; expected the Stripe meter event name (required with mode: meter), such as aws_usage',
      'customers[1].match is "111111111111"; expected a value no other customer matches (customer acme has it)',
    ]);
  });

  it('gives all cost to the one customer with allocation NONE', () => {
    const config = parseBillingConfig(valid.replace('LINKED_ACCOUNT', 'NONE'));
    expect(config.allocation).toEqual({ kind: 'NONE' });
    expect(config.customers[0]?.match).toBeUndefined();
  });

  it('reads tag and cost category allocations', () => {
    expect(parseBillingConfig(valid.replace('LINKED_ACCOUNT', 'TAG:customer').replace('"111111111111"', 'acme')).allocation).toEqual({
      kind: 'TAG',
      key: 'customer',
    });
    expect(parseBillingConfig(valid.replace('LINKED_ACCOUNT', 'COST_CATEGORY:Customers').replace('"111111111111"', 'acme')).allocation).toEqual({
      kind: 'COST_CATEGORY',
      name: 'Customers',
    });
  });

  it('says where broken YAML is and what file is missing', async () => {
    expect(() => parseBillingConfig('customers: [\n')).toThrow(/not valid YAML/);
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    await expect(loadBillingConfig(join(dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml" does not exist; create it/);
    writeFileSync(join(dir, 'ok.yaml'), valid);
    await expect(loadBillingConfig(join(dir, 'ok.yaml'))).resolves.toMatchObject({ currency: 'usd' });
  });

  it("says what is wrong with broken YAML and where, in the YAML reference parser's words", () => {
    expect(problems('customers: [\n')).toEqual([
      'billing config: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:',
    ]);
    expect(problems(`${valid}currency: eur\n`)).toEqual(['billing config: not valid YAML: Map keys must be unique at line 11, column 1:']);
    expect(problems('currency: "usd\n')).toEqual(['billing config: not valid YAML: Missing closing "quote at line 2, column 1:']);
    expect(problems('customers:\n\t- id: acme\n')).toEqual(['billing config: not valid YAML: Tabs are not allowed as indentation at line 2, column 1:']);
  });

  it('names an alias without an anchor, a tag it does not read and a second document', () => {
    expect(problems(`${valid}alertLevels: *levels\n`)).toEqual(['billing config: not valid YAML: unidentified alias "levels" at line 11, column 15']);
    expect(problems(`${valid}excludeRecordTypes: !!binary dXNk\n`)).toEqual([
      'billing config: not valid YAML: unknown scalar tag !<tag:yaml.org,2002:binary> at line 11, column 21',
    ]);
    expect(problems(`${valid}---\n${valid}`)).toEqual(['billing config: not valid YAML: holds 2 documents (separated by ---); a billing config is one']);
  });

  it('reads YAML 1.2 scalars as before: quoted or plain account ids, numbers in any notation, words as strings', () => {
    const customer = (allowance: string, match: string) =>
      parseBillingConfig(valid.replace('allowance: 800', `allowance: ${allowance}`).replace('"111111111111"', match)).customers[0];
    expect(customer('0x1F', '111111111111')).toMatchObject({ allowance: 31_000_000, match: '111111111111' });
    expect(customer('1.5e3', "'111111111111'")).toMatchObject({ allowance: 1_500_000_000 });
    expect(customer('0o17', '"111111111111"')).toMatchObject({ allowance: 15_000_000 });
    expect(problems(valid.replace('allowance: 800', 'allowance: 1_000'))).toEqual([
      'customers[0].allowance is "1_000"; expected a monthly allowance as a number in the currency\'s units, such as 800 or 12.50',
    ]);
    expect(problems(valid.replace('allowance: 800', 'allowance: 2026-10-01'))).toEqual([
      'customers[0].allowance is "2026-10-01"; expected a monthly allowance as a number in the currency\'s units, such as 800 or 12.50',
    ]);
    expect(problems('# no settings yet\n')).toEqual(['customers is missing; expected a list of customers']);
  });

  it('reads 1,000 customers as written', () => {
    const yaml = `customers:\n${Array.from({ length: 1000 }, (_, n) => `  - id: c${n}\n    name: Customer ${n}\n    match: "${100_000_000_000 + n}"\n    stripeCustomerId: cus_bench${n}\n    allowance: ${n}.25\n`).join('')}`;
    const { customers } = parseBillingConfig(yaml);
    expect(customers).toHaveLength(1000);
    expect(customers[999]).toEqual({
      id: 'c999',
      name: 'Customer 999',
      match: '100000000999',
      stripeCustomerId: 'cus_bench999',
      allowance: 999_250_000,
      markupPercent: 0,
      currency: 'usd',
      alertLevels: [50, 80, 100],
      mode: 'invoice',
      meterEventName: undefined,
    });
  });

  it('accepts the demo config shipped with the project', async () => {
    const config = await loadBillingConfig('scripts/demo/billing.config.yaml');
    expect(config.customers.map((c) => c.id)).toEqual(['acme', 'globex', 'initech', 'umbrella', 'hooli']);
  });
});

describe('billing config: hostile or runaway input', () => {
  const customer = (n: number) => `  - id: c${n}\n    name: C${n}\n    match: "bad"\n    stripeCustomerId: cus_C${n}\n    allowance: 1\n`;

  it('refuses a YAML alias bomb with a config error instead of expanding it', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [previous, name] of [...'abcdefgh'].slice(0, -1).map((letter, i) => [letter, 'bcdefgh'[i]!])) {
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    expect(problems(levels.join('\n'))).toEqual([
      'billing config: its aliases (*name) expand to more than 1000 nodes, as in a YAML "billion laughs" bomb; write the values out or use fewer aliases',
    ]);
  });

  it('still accepts a config that shares values through a few anchors', () => {
    const shared = `alertLevels: &levels [50, 80]\n${valid.trim()}\n    alertLevels: *levels\n`;
    expect(parseBillingConfig(shared).customers[0]?.alertLevels).toEqual([50, 80]);
  });

  it('lets up to 1,000 lists and maps be repeated through aliases, as one anchor shared by 999 customers', () => {
    const config = (customers: number) =>
      `alertLevels: &levels [50, 80]\ncustomers:\n${Array.from({ length: customers }, (_, n) => `  - id: c${n}\n    name: C${n}\n    match: "${100_000_000_000 + n}"\n    stripeCustomerId: cus_C${n}abc\n    allowance: 1\n    alertLevels: *levels\n`).join('')}`;
    expect(parseBillingConfig(config(999)).customers[998]?.alertLevels).toEqual([50, 80]);
    expect(problems(config(1001))).toEqual([
      'billing config: its aliases (*name) expand to more than 1000 nodes, as in a YAML "billion laughs" bomb; write the values out or use fewer aliases',
    ]);
  });

  it('refuses 20,000 levels of nesting, or 40, naming the limit', () => {
    const tooDeep = "billing config: nested more than 32 levels deep; the config's deepest field (customers[].alertLevels) is 3 levels down";
    expect(problems(`customers: ${'['.repeat(20_000)}${']'.repeat(20_000)}`)).toEqual([tooDeep]);
    expect(problems(`customers: ${'['.repeat(40)}${']'.repeat(40)}`)).toEqual([tooDeep]);
  });

  it('refuses a file over 4 MiB before reading it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'config-size-')), 'billing.config.yaml');
    writeFileSync(path, `# ${'x'.repeat(4 * 1024 * 1024)}\n${valid}`);
    await expect(loadBillingConfig(path)).rejects.toThrow(`${path}: is 4.0 MiB; a billing config must be at most 4 MiB`);
  });

  it('lists the first 20 of 20,000 problems and counts the rest, in a message of a few kilobytes', () => {
    const yaml = `currency: usd\nallocation: LINKED_ACCOUNT\ncustomers:\n${Array.from({ length: 20_000 }, (_, n) => customer(n)).join('')}`;
    let error: unknown;
    try {
      parseBillingConfig(yaml);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems: all, message } = error as ConfigError;
    expect(all.length).toBeGreaterThanOrEqual(20_000);
    const lines = message.split('\n');
    expect(lines[0]).toBe(`${all.length} problems:`);
    expect(lines.slice(1, 21)).toEqual(all.slice(0, 20).map((problem) => `  - ${problem}`));
    expect(lines.at(-1)).toBe(`  …and ${all.length - 20} more`);
    expect(lines).toHaveLength(22);
    expect(message.length).toBeLessThan(4000);
  });
});
