// Webhook signing secrets: Standard Webhooks' "whsec_" + base64 of 24 to 64 random bytes, or
// for the superannotate dialect any string of 8 or more characters (an HMAC key). Rotation,
// which keeps the old secret signing for a day, is domain/secret-rotation.ts.
import crypto from 'node:crypto';
import { AppError } from './errors.js';
import type { DialectName } from './dialect-names.js';

export function generateSecret(): string {
  return 'whsec_' + crypto.randomBytes(24).toString('base64');
}

/** The secret a new webhook channel signs with, or null for unsigned, from the user's `secret`. */
export function secretFor(d: DialectName, input: boolean | string | undefined): string | null {
  // A standard-dialect webhook is signed unless the caller says `secret: false` (issue 10
  // defect 6): Standard Webhooks and Svix generate a secret by default and return it once.
  // The vendor dialects keep their vendors' defaults (Label Studio never signs).
  if (input === undefined) return d === 'standard' ? generateSecret() : null;
  if (input === false) return null;
  if (d === 'superannotate') {
    if (input === true) return crypto.randomBytes(32).toString('hex');
    if (input.length < 8) throw new AppError('validation_failed', 'secret must be at least 8 characters, or true to have one generated.');
    return input;
  }
  if (input === true) return generateSecret();
  checkSecret(input);
  return input;
}

function checkSecret(secret: string): void {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  const bytes = m ? Buffer.from(m[1]!, 'base64').length : 0;
  if (bytes < 24 || bytes > 64) {
    throw new AppError('validation_failed', 'secret must be "whsec_" followed by the base64 of 24 to 64 random bytes, or true to have one generated.');
  }
}
