// The one place custom-action secret values are sealed and opened (issue 13: "encrypted at
// rest"): a set's values are one JSON object sealed with AES-256-GCM (store/sealed.ts).
// Rows written before sealing ("plain:" + base64) still open; the start-up step seals them.
import type { Keyring } from './seal.js';
import { openJson, sealJson } from './sealed.js';

export function sealSecretValues(ring: Keyring, values: Record<string, string>): string {
  return sealJson(ring, values);
}

export function openSecretValues(ring: Keyring, sealed: string): Record<string, string> {
  return openJson<Record<string, string>>(ring, sealed);
}
