/**
 * Fastify's own schema compilers (ajv for request validation, fast-json-stringify for
 * responses), each compilation deferred to the first request that needs it.
 *
 * Fastify compiles every route's schemas when the route is registered: with the admin
 * API's schemas that was about a third of a coordinator's start (ajv also compiles its
 * meta-schema for the first one). A restarted coordinator must listen quickly for its
 * participants, whose WebSocket needs none of them; an admin route pays its compilation
 * (a few ms) on its first request instead; even ajv and fast-json-stringify are loaded
 * then, not at start. `compileAll()` compiles whatever is still
 * pending, so a test can prove that every schema compiles, as registration used to.
 */
import { createRequire } from 'node:module';
import type { AjvCompiler } from '@fastify/ajv-compiler';
import type { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type SchemaControllerOptions = NonNullable<FastifyServerOptions['schemaController']>;
type CompilersFactory = NonNullable<SchemaControllerOptions['compilersFactory']>;
type BuildValidator = NonNullable<CompilersFactory['buildValidator']>;
type BuildSerializer = NonNullable<CompilersFactory['buildSerializer']>;
type ValidatorCompiler = ReturnType<BuildValidator>;
type SerializerCompiler = ReturnType<BuildSerializer>;
type ValidatorRoute = Parameters<ValidatorCompiler>[0];

export interface LazySchemaCompilers {
  /** Fastify's `schemaController.compilersFactory`. */
  readonly compilersFactory: { buildValidator: BuildValidator; buildSerializer: BuildSerializer };
  /** Compiles every schema not compiled yet; throws what the first failing compilation throws. */
  compileAll(): void;
}

/**
 * Header names are case-insensitive: fastify lower-cases a headers schema's property names
 * before compiling it, but only with its default compiler, so this does the same.
 */
function lowerCaseHeaders(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || Object.getPrototypeOf(schema) !== Object.prototype)
    return schema;
  const s = schema as { properties?: Record<string, unknown>; required?: unknown };
  const out: Record<string, unknown> = { ...s };
  if (s.properties)
    out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k.toLowerCase(), v]));
  if (Array.isArray(s.required))
    out.required = s.required.map((k) => (typeof k === 'string' ? k.toLowerCase() : k));
  return out;
}

export function lazySchemaCompilers(): LazySchemaCompilers {
  const pending = new Set<() => unknown>();
  /** `compile` once, on the first call of the returned getter (or by compileAll). */
  function deferred<T>(compile: () => T): () => T {
    let compiled: { value: T } | undefined;
    const get = () => {
      if (!compiled) {
        compiled = { value: compile() };
        pending.delete(get);
      }
      return compiled.value;
    };
    pending.add(get);
    return get;
  }

  // Loaded with the first compilation: ajv alone takes a tenth of a start.
  const require = createRequire(import.meta.url);
  const buildAjv = deferred(
    () =>
      (
        require('@fastify/ajv-compiler') as { AjvCompiler: typeof AjvCompiler }
      ).AjvCompiler() as BuildValidator,
  );
  const buildFjs = deferred(
    () =>
      (
        require('@fastify/fast-json-stringify-compiler') as { SerializerSelector: typeof SerializerSelector }
      ).SerializerSelector() as BuildSerializer,
  );

  const buildValidator: BuildValidator = (externalSchemas, options) => {
    const compiler = deferred(() => buildAjv()(externalSchemas, options));
    return ((route: ValidatorRoute) => {
      const def = route.httpPart === 'headers' ? { ...route, schema: lowerCaseHeaders(route.schema) } : route;
      const validate = deferred(() => compiler()(def as ValidatorRoute));
      const lazy = (data: unknown) => (validate() as (d: unknown) => unknown)(data);
      // fastify reads a failed validation's errors from the function itself (ajv's convention).
      Object.defineProperty(lazy, 'errors', { get: () => (validate() as { errors?: unknown }).errors });
      return lazy;
    }) as ValidatorCompiler;
  };

  const buildSerializer: BuildSerializer = (externalSchemas, options) => {
    const compiler = deferred(() => buildFjs()(externalSchemas, options));
    return ((route: Parameters<SerializerCompiler>[0]) => {
      const serialize = deferred(() => compiler()(route));
      return (data: unknown) => serialize()(data);
    }) as SerializerCompiler;
  };

  return {
    compilersFactory: { buildValidator, buildSerializer },
    compileAll() {
      // Compiling a route's schema may add its compiler to `pending`'s end; a Set iterates those too.
      for (const get of pending) get();
    },
  };
}
