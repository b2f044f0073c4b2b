// A consumer of the public types. Type-checked (never run) by __test__/types.test.mjs with `tsc --noEmit`.
import { GatewayError, nativeVersion } from 'spacetime-gateway';

const v: string = nativeVersion();
const e = new GatewayError('TIMEOUT', 'x');
const code: string = e.code;
void v;
void code;
