// The TanStack Start example app (examples/tanstack-start) under the shared example suites (apps/example.mjs).
import { describeExample } from './apps/example.mjs';

describeExample('tanstack', 'examples/tanstack-start');
