// The dialects by name.
import type { Dialect } from './dialect.js';
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

export type { Dialect, Rendered, RenderContext, RenderInput } from './dialect.js';
