/** Route options shared by the admin routes: the admin-token guard, its OpenAPI security, the error responses. */
import type { ErrorResponse } from '@mutua/proto/rest';
import { Type } from '@sinclair/typebox';

/** `config: { admin: true }`: plugins/admin-auth.ts asks for the admin token. */
export const admin = { config: { admin: true } } as const;

/** The OpenAPI security requirement of admin routes. */
export const security = [{ adminToken: [] }];

/** Every 4xx answer is the Error schema (registered once by app.ts under $id 'Error'), with a registry code. */
export const clientErrors = { '4xx': Type.Unsafe<ErrorResponse>({ $ref: 'Error#' }) } as const;

/** 204 No Content: `reply.code(204).send()`, no body. */
export const noContent = Type.Unsafe<void>({ type: 'null' });
