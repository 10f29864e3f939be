import { z } from 'zod';
import { MAX_INVOICE_ITEMS, MAX_SERVICE_LINES, OTHER_SERVICES } from '../billing/lines.js';

/** AWS services with their own line on an invoice; the rest share one "Other AWS services" line. */
export const DEFAULT_SERVICE_LINES = 5;

const CUSTOMER_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const STRIPE_CUSTOMER = /^cus_[A-Za-z0-9]{4,}$/;
const CURRENCY = /^[a-z]{3}$/;
const ALLOCATION = /^(LINKED_ACCOUNT|NONE|TAG:[^\s]+|COST_CATEGORY:[^\s].*)$/;
export const RECORD_TYPES = [
  'Usage',
  'Credit',
  'Refund',
  'Tax',
  'DiscountedUsage',
  'SavingsPlanCoveredUsage',
  'SavingsPlanNegation',
  'SavingsPlanRecurringFee',
  'SavingsPlanUpfrontFee',
  'RIFee',
  'Support',
  'Fee',
  'EdpDiscount',
  'BundledDiscount',
  'PrivateRateDiscount',
  'Distributor Discount',
] as const;

const percentLevels = z
  .array(z.number({ error: 'a percentage such as 80' }).gt(0, 'a percentage above 0').max(1000, 'a percentage up to 1000'), {
    error: 'a list of percentages such as [50, 80, 100]',
  })
  .max(10, 'at most 10 levels')
  .transform((levels) => [...new Set(levels)].sort((a, b) => a - b));

const money = (what: string) =>
  z
    .number({ error: `${what} as a number in the currency's units, such as 800 or 12.50` })
    .min(0, `${what} of 0 or more`)
    .max(1e9, `${what} up to 1,000,000,000`);

export const customerSchema = z
  .object({
    id: z
      .string({ error: 'an id of lowercase letters, digits, - and _' })
      .regex(CUSTOMER_ID, 'an id of lowercase letters, digits, - and _ (up to 63), such as acme'),
    name: z.string({ error: 'a display name such as "Acme Corp"' }).min(1, 'a non-empty display name'),
    match: z
      .union([z.string(), z.number()], { error: 'the account id, tag value or cost category value that identifies this customer (quoted)' })
      .transform(String)
      .optional(),
    stripeCustomerId: z.string({ error: 'a Stripe customer id such as cus_Q1a2b3' }).regex(STRIPE_CUSTOMER, 'a Stripe customer id such as cus_Q1a2b3'),
    allowance: money('a monthly allowance'),
    markupPercent: z.number({ error: 'a markup in percent such as 10' }).gt(-100, 'a markup above -100').max(1000, 'a markup up to 1000').default(0),
    currency: z
      .string({ error: 'a three-letter lowercase ISO currency such as usd' })
      .regex(CURRENCY, 'a three-letter lowercase ISO currency such as usd')
      .optional(),
    alertLevels: percentLevels.optional(),
    mode: z.enum(['invoice', 'meter'], { error: 'invoice or meter' }).default('invoice'),
    meterEventName: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'a Stripe meter event name such as aws_usage')
      .optional(),
  })
  .strict();

/** Defaults stay quiet on weekly rhythms and ordinary growth: a day must double and rise by 20 to be flagged. */
export const ANOMALY_DEFAULTS = { enabled: true, ratio: 2, minimum: 20, lookbackDays: 28 } as const;

const anomaliesSchema = z
  .object({
    enabled: z.boolean({ error: 'true or false' }).default(ANOMALY_DEFAULTS.enabled),
    ratio: z
      .number({ error: 'a ratio such as 2 (a day costing over twice the usual)' })
      .gt(1, 'a ratio above 1, such as 2')
      .max(100, 'a ratio up to 100')
      .default(ANOMALY_DEFAULTS.ratio),
    minimum: money('a minimum increase over the usual daily cost').default(ANOMALY_DEFAULTS.minimum),
    lookbackDays: z
      .number({ error: 'a number of days such as 28' })
      .int('a whole number of days')
      .min(7, '7 days or more (a week, so every weekday is seen)')
      .max(56, 'up to 56 days')
      .default(ANOMALY_DEFAULTS.lookbackDays),
  })
  .strict()
  .default(ANOMALY_DEFAULTS);

export const billingConfigSchema = z
  .object({
    currency: z
      .string({ error: 'a three-letter lowercase ISO currency such as usd' })
      .regex(CURRENCY, 'a three-letter lowercase ISO currency such as usd')
      .default('usd'),
    allocation: z
      .string({ error: 'LINKED_ACCOUNT, TAG:<key>, COST_CATEGORY:<name> or NONE' })
      .regex(ALLOCATION, 'LINKED_ACCOUNT, TAG:<key>, COST_CATEGORY:<name> or NONE')
      .default('LINKED_ACCOUNT'),
    excludeRecordTypes: z.array(z.enum(RECORD_TYPES, { error: `one of ${RECORD_TYPES.join(', ')}` })).default(['Credit', 'Refund']),
    alertLevels: percentLevels.default([50, 80, 100]),
    forecastAlertLevels: percentLevels.default([100]),
    billing: z
      .object({
        minimumInvoiceAmount: money('a minimum invoice amount').default(1),
        trueUpDay: z
          .number({ error: 'a day of the month from 1 to 28' })
          .int('a whole day')
          .min(1, 'a day from 1 to 28')
          .max(28, 'a day from 1 to 28')
          .default(3),
        collectionMethod: z.enum(['send_invoice', 'charge_automatically'], { error: 'send_invoice or charge_automatically' }).default('send_invoice'),
        daysUntilDue: z
          .number({ error: 'a number of days such as 30' })
          .int('a whole number of days')
          .min(1, '1 day or more')
          .max(365, 'up to 365 days')
          .default(30),
        invoiceServiceLines: z
          .number({ error: `a number of AWS services from 1 to ${MAX_SERVICE_LINES} such as 5` })
          .int('a whole number of AWS services')
          .min(1, 'at least 1 AWS service')
          .max(MAX_SERVICE_LINES, `at most ${MAX_SERVICE_LINES} AWS services (Stripe takes ${MAX_INVOICE_ITEMS} items per invoice, one is "${OTHER_SERVICES}")`)
          .default(DEFAULT_SERVICE_LINES),
      })
      .strict()
      .default({ minimumInvoiceAmount: 1, trueUpDay: 3, collectionMethod: 'send_invoice', daysUntilDue: 30, invoiceServiceLines: DEFAULT_SERVICE_LINES }),
    anomalies: anomaliesSchema,
    customers: z.array(customerSchema, { error: 'a list of customers' }).min(1, 'at least one customer'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const ids = new Set<string>();
    const matches = new Map<string, string>();
    config.customers.forEach((customer, index) => {
      if (ids.has(customer.id)) ctx.addIssue({ code: 'custom', path: ['customers', index, 'id'], message: 'an id that no other customer has' });
      ids.add(customer.id);
      if (customer.mode === 'meter' && !customer.meterEventName) {
        ctx.addIssue({
          code: 'custom',
          path: ['customers', index, 'meterEventName'],
          message: 'the Stripe meter event name (required with mode: meter), such as aws_usage',
        });
      }
      if (config.allocation === 'NONE') {
        if (config.customers.length > 1 && index === 1) {
          ctx.addIssue({
            code: 'custom',
            path: ['allocation'],
            message: 'with NONE exactly one customer (it gets all cost); use LINKED_ACCOUNT, TAG:<key> or COST_CATEGORY:<name> for several',
          });
        }
        return;
      }
      if (customer.match === undefined || customer.match === '') {
        ctx.addIssue({
          code: 'custom',
          path: ['customers', index, 'match'],
          message: `the ${config.allocation} value that identifies this customer, such as "111111111111"`,
        });
        return;
      }
      if (config.allocation === 'LINKED_ACCOUNT' && !/^\d{12}$/.test(customer.match)) {
        ctx.addIssue({ code: 'custom', path: ['customers', index, 'match'], message: 'a 12-digit AWS account id in quotes, such as "111111111111"' });
      }
      const owner = matches.get(customer.match);
      if (owner) ctx.addIssue({ code: 'custom', path: ['customers', index, 'match'], message: `a value no other customer matches (customer ${owner} has it)` });
      matches.set(customer.match, customer.id);
    });
  });

export type BillingConfigInput = z.input<typeof billingConfigSchema>;
type ParsedConfig = z.output<typeof billingConfigSchema>;
export type CustomerConfig = ParsedConfig['customers'][number];
