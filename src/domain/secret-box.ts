// The ONE place custom-action secret values are sealed and opened (issue 13: "encrypted at
// rest"). The secrets-at-rest work (AES-256-GCM under a key outside the database) is being
// built in parallel; until it merges, these two functions are the seam to point at it.
// NOT ENCRYPTED YET: the values are only encoded, tagged "plain:" so that a sealed form
// written later is told apart and rows written now can be re-sealed by a migration.
export function sealSecretValues(values: Record<string, string>): string {
  return 'plain:' + Buffer.from(JSON.stringify(values), 'utf8').toString('base64');
}

export function openSecretValues(sealed: string): Record<string, string> {
  if (!sealed.startsWith('plain:')) throw new Error('secret values sealed in an unknown form');
  return JSON.parse(Buffer.from(sealed.slice('plain:'.length), 'base64').toString('utf8')) as Record<string, string>;
}
