import { describe, expect, it } from 'vitest';
import { describeNetworkFailure } from '../../src/errors.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 4566 });

describe('describeNetworkFailure', () => {
  it('names the endpoint, what happened and the endpoint variable that chose it', () => {
    expect(describeNetworkFailure(refused, { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:4566', AWS_REGION: 'eu-west-1' })).toBe(
      'Could not reach 127.0.0.1:4566: it refused the connection (ECONNREFUSED). The endpoint comes from AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:4566: start the emulator it names, or unset it to reach AWS.',
    );
  });

  it('points at the network when no endpoint variable is set', () => {
    const unresolved = Object.assign(new Error('getaddrinfo ENOTFOUND ce.us-east-1.amazonaws.com'), {
      code: 'ENOTFOUND',
      hostname: 'ce.us-east-1.amazonaws.com',
    });
    expect(describeNetworkFailure(unresolved, {})).toBe(
      'Could not reach ce.us-east-1.amazonaws.com: it does not resolve to an address (ENOTFOUND). Check the network and proxy settings of the runner, and AWS_REGION.',
    );
  });

  it('leaves every other error alone', () => {
    expect(describeNetworkFailure(new Error('AccessDenied'), {})).toBeUndefined();
    expect(describeNetworkFailure(Object.assign(new Error('x'), { code: 'ValidationException' }), {})).toBeUndefined();
    expect(describeNetworkFailure(undefined, {})).toBeUndefined();
  });
});
