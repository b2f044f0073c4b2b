// Shared test data and assertions of the client suites.

import { expect } from 'vitest';
import { GatewayError } from '../../lib/index.js';

/** Awaits `promise`, expects it to reject with a GatewayError of `code` (and `messagePart`); returns it. */
export async function expectCode(promise, code, messagePart) {
  const err = await promise.then(
    () => null,
    (e) => e,
  );
  expect(err, `expected a ${code} error`).toBeInstanceOf(GatewayError);
  expect(err.code).toBe(code);
  if (messagePart) expect(err.message).toContain(messagePart);
  return err;
}

/** An `all_types` row with every column at an edge of its type, in the gateway's value mapping. */
export function allTypesRow(id, tenantId) {
  return {
    id,
    tenant_id: tenantId,
    a_u8: 255,
    a_u16: 65535,
    a_u32: 4294967295,
    a_u64: '18446744073709551615',
    a_u128: '340282366920938463463374607431768211455',
    a_u256: (2n ** 256n - 1n).toString(),
    a_i8: -128,
    a_i16: -32768,
    a_i32: -2147483648,
    a_i64: '-9223372036854775808',
    a_i128: '-170141183460469231731687303715884105728',
    a_i256: (-(2n ** 255n)).toString(),
    a_f32: 1.5,
    a_f64: -0.1,
    a_bool: true,
    a_string: 'héllo "quoted" \n line',
    a_identity: 'c200' + 'ab'.repeat(30),
    a_connection_id: '0123456789abcdef0123456789abcdef',
    a_timestamp: '2024-02-29T12:34:56.789012Z',
    a_duration: '-1500000',
    maybe_string: null,
    maybe_i32: 7,
    bytes: '00ff7f',
    strings: ['a', '', 'c'],
    color: 'Blue',
    shape: { tag: 'Rect', value: { width: 2, height: 3.5 } },
    address: { street: 'Main', city: 'Town', geo: { lat: 1.25, lon: -2.5 }, tags: ['x'] },
    shapes: [{ tag: 'Circle', value: 1 }, { tag: 'Empty' }, { tag: 'Label', value: 'L' }],
  };
}
