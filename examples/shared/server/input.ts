// Input checking for routes and server functions: a schema failure is INVALID_INPUT naming each field.
import type { z } from 'zod';
import { appError } from './errors';

/** The largest JSON body a route reads (a document's body is at most 64 KiB). */
const MAX_BODY_BYTES = 128 * 1024;

/** `value` checked by `schema`, or INVALID_INPUT listing what is wrong (`title: must not be empty`). */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`);
  throw appError('INVALID_INPUT', problems.join('; '));
}

/** A validator for `createServerFn().validator(...)`: the same checks, the same error. */
export const validator =
  <S extends z.ZodType>(schema: S) =>
  (value: unknown): z.output<S> =>
    parse(schema, value);

/** The request's JSON body, or INVALID_INPUT (not JSON, too large). */
export async function readJson(request: Request): Promise<unknown> {
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > MAX_BODY_BYTES) throw appError('INVALID_INPUT', `the body is ${length} bytes; the limit is ${MAX_BODY_BYTES}`);
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw appError('INVALID_INPUT', `the body is larger than ${MAX_BODY_BYTES} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    throw appError('INVALID_INPUT', 'the body must be JSON, e.g. {"title": "…", "body": "…"}');
  }
}

/** A required query parameter, checked by `schema`. */
export function queryParam<S extends z.ZodType>(request: Request, name: string, schema: S): z.output<S> {
  const value = new URL(request.url).searchParams.get(name);
  if (value === null || value === '') throw appError('INVALID_INPUT', `the query parameter ${name} is required`);
  try {
    return parse(schema, value);
  } catch (error) {
    throw appError('INVALID_INPUT', `${name}: ${(error as Error).message.replace(/^input: /, '')}`);
  }
}
