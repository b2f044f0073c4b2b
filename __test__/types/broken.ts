// Must NOT type-check: proves the type check in __test__/types.test.mjs can fail.
import { nativeVersion } from 'spacetime-gateway';

const n: number = nativeVersion();
void n;
