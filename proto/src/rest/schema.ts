/**
 * TypeBox building blocks shared by the REST schemas. They emit the same JSON Schema a
 * person would write by hand (`enum` of strings, `type: [T, 'null']`), because the
 * coordinator's 400 messages are worded from Ajv's `enum` and `type` errors, and the
 * OpenAPI document shows these schemas as they are.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';

/** `{ type: 'string', enum: values }` typed as the union of the values (TypeBox's own Union would emit anyOf). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string; default?: T[number] } = {},
) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** The schema, or null: `type: [T, 'null']`. */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type as string, 'null'] });
}

/** The path parameter of every /v1/federations/:id route. */
export const FederationParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
export type FederationParams = Static<typeof FederationParams>;

/**
 * No control characters (NUL included: PostgreSQL refuses it in text) and no unpaired
 * surrogates (not encodable as UTF-8). Ajv compiles patterns with the `u` flag.
 */
export const PRINTABLE_PATTERN = '^[^\\p{Cc}\\p{Cs}]*$';

/** A string a person reads (a name, a label): printable, so every database can store it. */
export function PrintableText(
  options: { minLength?: number; maxLength?: number; description?: string } = {},
) {
  return Type.String({ ...options, pattern: PRINTABLE_PATTERN });
}
