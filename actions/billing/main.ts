import { parseBillingInputs } from '../../src/billing/inputs.js';
import { actionInput } from '../../src/github/commands.js';
import { failRun } from '../../src/github/runtime.js';

export async function run(): Promise<void> {
  try {
    const inputs = parseBillingInputs(actionInput, new Date());
    // The AWS SDK, Stripe, zod, the YAML parser and @actions/core load only once the inputs are valid.
    const { bill } = await import('./bill.js');
    await bill(inputs);
  } catch (error) {
    failRun(error);
  }
}
