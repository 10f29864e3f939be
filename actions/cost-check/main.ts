import { actionInput } from '../../src/github/commands.js';
import { failRun } from '../../src/github/runtime.js';
import { parseCostCheckInputs } from '../../src/costCheck/inputs.js';

export async function run(): Promise<void> {
  try {
    const now = new Date();
    const inputs = parseCostCheckInputs(actionInput, now);
    // The AWS SDK, zod and the YAML parsers load only once the inputs are valid.
    const { checkCosts } = await import('./checkCosts.js');
    await checkCosts(inputs, now);
  } catch (error) {
    failRun(error);
  }
}
