// Validation policy. Bodies are validated strictly: no type coercion ("5" is not 5) and no
// silent removal of unknown fields (Fastify's defaults do both), so a typo in a field name is
// a 400 that names the field instead of a request that half-happens. Path and query strings
// are text by nature and are coerced to the schema's types.
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats ships CommonJS with a default export; under NodeNext it arrives wrapped.
const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    coerceTypes: coerce ? 'array' : false,
    discriminator: true,
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
  });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  // RFC 3339 allows a leap second (23:59:60) and ajv-formats accepts it, but Date cannot
  // represent it: such a "since" parsed to NaN and silently matched nothing (issue 10).
  // Accept only times the code can use.
  const rfc3339 = ajv.formats['date-time'] as { validate: (s: string) => boolean } | ((s: string) => boolean);
  const base = typeof rfc3339 === 'function' ? rfc3339 : rfc3339.validate;
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => base(s) && Number.isFinite(Date.parse(s)) });
  return ajv;
}

const bodyAjv = makeAjv(false);
const textAjv = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
};

/** One sentence a person can act on, e.g. "body.title must be a string". */
export function describeValidation(errors: ErrorObject[], part: string): string {
  const e = errors[0];
  if (!e) return `${part} is not valid.`;
  const where = part + e.instancePath.replace(/\//g, '.');
  switch (e.keyword) {
    case 'additionalProperties':
      return `${where} has an unknown field '${(e.params as { additionalProperty: string }).additionalProperty}'; remove it or check its spelling.`;
    case 'required':
      return `${where} is missing the required field '${(e.params as { missingProperty: string }).missingProperty}'.`;
    case 'minProperties':
      return `${where} must set at least one field.`;
    case 'const': {
      // A union of literals fails once per branch; list every allowed value.
      const allowed = errors
        .filter((x) => x.keyword === 'const' && x.instancePath === e.instancePath)
        .map((x) => JSON.stringify((x.params as { allowedValue: unknown }).allowedValue));
      return `${where} must be one of: ${allowed.join(', ')}.`;
    }
    case 'enum':
      return `${where} must be one of: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}.`;
    case 'anyOf':
      return `${where} is not one of the allowed shapes.`;
    default:
      return `${where} ${e.message ?? 'is not valid'}.`;
  }
}
