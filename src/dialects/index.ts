// The dialects by name.
import type { Dialect } from './dialect.js';
import type { CanonicalEvent } from '../model/event.js';
import { encord } from './encord.js';
import { labelStudio } from './label-studio.js';
import { standard } from './standard.js';
import { superannotate } from './superannotate.js';

import type { DialectName } from '../model/dialect-names.js';

export { DIALECT_NAMES, type DialectName } from '../model/dialect-names.js';

const BY_NAME: Record<DialectName, Dialect> = { standard, encord, 'label-studio': labelStudio, superannotate };

export function dialect(name: string): Dialect {
  return BY_NAME[name as DialectName] ?? standard;
}

// Every body format an attempt may refer to (attempts.request_body_from), current or retired.
const KEPT_BODIES = new Map(Object.values(BY_NAME).flatMap((d) => (d.keptBody ? [[d.keptBody.name, d.keptBody.render] as const] : [])));

/** The renderer of a kept body format by its exact name; undefined for a name this version does not know. */
export function keptBodyRenderer(name: string): ((event: CanonicalEvent) => string) | undefined {
  return KEPT_BODIES.get(name);
}

export type { Dialect, KeptBody, Rendered, RenderContext, RenderInput } from './dialect.js';
