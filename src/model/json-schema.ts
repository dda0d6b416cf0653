// Helpers for the TypeBox schemas (model/channel-inputs.ts, api/schemas.ts): one spelling of
// "no extra properties" and of a string enum.
import { Type } from '@sinclair/typebox';

export const strict = { additionalProperties: false } as const;

/** A string enum; rendered as {type: string, enum: [...]} in OpenAPI and error messages. */
export const literalUnion = <T extends readonly string[]>(values: T, description?: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });
