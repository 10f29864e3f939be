import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ServiceError } from '../errors.js';

/** Reads a SecureString parameter (decrypted). The value is a secret: callers mask it before anything logs. */
export async function readSecretParameter(ssm: SSMClient, name: string): Promise<string> {
  try {
    const result = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const value = result.Parameter?.Value;
    if (!value) {
      throw new ServiceError(`SSM parameter ${name} is empty`, `Store the secret with: aws ssm put-parameter --name ${name} --type SecureString --value ...`);
    }
    if (result.Parameter?.Type !== 'SecureString') {
      throw new ServiceError(
        `SSM parameter ${name} is a ${result.Parameter?.Type}, not a SecureString`,
        `Re-create it as a SecureString so the secret is encrypted at rest`,
      );
    }
    return value.trim();
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    const name_ = (error as { name?: string }).name;
    if (name_ === 'ParameterNotFound') {
      throw new ServiceError(`SSM parameter ${name} does not exist`, `Create it with: aws ssm put-parameter --name ${name} --type SecureString --value ...`, {
        cause: error,
      });
    }
    if (name_ === 'AccessDeniedException') {
      throw new ServiceError(
        `Not allowed to read SSM parameter ${name}`,
        `Grant ssm:GetParameter on it to the role (and, if it is encrypted with a customer-managed KMS key, kms:Decrypt through SSM)`,
        { cause: error },
      );
    }
    throw error;
  }
}
