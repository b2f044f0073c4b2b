// The Analog (Angular) example app (examples/analog) under the shared example suites (apps/example.mjs):
// the same HTTP contract, pages and test ids as the TanStack Start app, on nitropack 2 / h3 v1.
import { describeExample } from './apps/example.mjs';

describeExample('analog', 'examples/analog');
