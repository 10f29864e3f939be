import * as core from '@actions/core';
import { parsePeriod } from '../../src/period.js';

export async function run(): Promise<void> {
  core.info(parsePeriod(core.getInput('period') || 'current', new Date()).id);
}
