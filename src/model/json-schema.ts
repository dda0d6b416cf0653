// Helpers for the TypeBox schemas (model/*-inputs.ts, api/*schemas.ts): one spelling of "no
// extra properties", of a string enum and of an id.
import { Type } from '@sinclair/typebox';

export const strict = { additionalProperties: false } as const;

/** A string enum; rendered as {type: string, enum: [...]} in OpenAPI and error messages. */
export const literalUnion = <T extends readonly string[]>(values: T, description?: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

export const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Integer id' });
