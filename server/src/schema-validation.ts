/**
 * How the admin API validates requests and words its 400s.
 *
 * - Bodies are validated strictly (no type coercion: "16" is not an integer), but a query
 *   string is text by nature, so numeric query parameters are converted before validation
 *   (otherwise `?limit=10` could never match `type: integer`).
 * - Messages name what to fix: the unknown property and the ones allowed, the allowed
 *   values of an enum, the value received. Ajv's defaults ("must NOT have additional
 *   properties") leave the person guessing which one.
 */
import { PRINTABLE_PATTERN } from '@mutua/proto/rest';
import type { FastifyRequest, FastifySchemaValidationError } from 'fastify';

/** Ajv options that the messages below rely on (verbose: errors carry the schema and the data). */
export const AJV_OPTIONS = {
  removeAdditional: false,
  coerceTypes: false,
  allErrors: true,
  verbose: true,
} as const;

type VerboseError = FastifySchemaValidationError & {
  parentSchema?: { properties?: Record<string, unknown> };
  data?: unknown;
};

const show = (v: unknown) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

function describeError(dataVar: string, e: VerboseError): string {
  const where = `${dataVar}${e.instancePath}`;
  switch (e.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys(e.parentSchema?.properties ?? {});
      return `${where} has an unknown property "${String(e.params.additionalProperty)}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`;
    }
    case 'enum':
      return `${where} must be one of ${(e.params.allowedValues as unknown[]).map(show).join(', ')}; got ${show(e.data)}`;
    case 'type':
      return `${where} must be ${String(e.params.type)}; got ${show(e.data)}`;
    case 'pattern':
      // The value itself is not echoed: it may hold the very control characters refused.
      if (e.params.pattern === PRINTABLE_PATTERN)
        return `${where} must be printable text (no control characters, no unpaired surrogates)`;
      return `${where} must match ${String(e.params.pattern)}`;
    case 'required':
      return `${where} is missing the required property "${String(e.params.missingProperty)}"`;
    default:
      return `${where} ${e.message ?? 'is invalid'}${e.data !== undefined && typeof e.data !== 'object' ? `; got ${show(e.data)}` : ''}`;
  }
}

/** fastify's schemaErrorFormatter: one sentence per problem. */
export function formatValidationErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const e of errors as VerboseError[]) {
    // allErrors reports an enum/type failure once per schema branch; say each thing once.
    const text = describeError(dataVar, e);
    if (!seen.has(text)) parts.push(text);
    seen.add(text);
  }
  return new Error(parts.join('; '));
}

/** preValidation hook: numeric query parameters declared as integer/number become numbers. */
export async function coerceNumericQuery(req: FastifyRequest): Promise<void> {
  const schema = req.routeOptions.schema?.querystring as
    | { properties?: Record<string, { type?: unknown }> }
    | undefined;
  const query = req.query as Record<string, unknown> | undefined;
  if (!schema?.properties || !query) return;
  for (const [name, prop] of Object.entries(schema.properties)) {
    const v = query[name];
    if (
      (prop.type === 'integer' || prop.type === 'number') &&
      typeof v === 'string' &&
      /^-?\d+(\.\d+)?$/.test(v)
    )
      query[name] = Number(v);
  }
}
