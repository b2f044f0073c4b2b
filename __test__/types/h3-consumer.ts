// Real h3 events of both major versions fit `serveStream` as they are, and its result is what their
// handlers may return. Type-checked (never run) by __test__/types.test.mjs.
import { createApp, createRouter, defineEventHandler } from 'h3-v1';
import { H3, defineHandler } from 'h3-v2';
import type { Gateway } from 'spacetime-gateway';
import { serveStream, type H3EventLike } from 'spacetime-gateway/h3';

declare const gateway: Gateway;
declare function getGateway(): Promise<Gateway>;

// h3 v1 (nitropack 2, Analog API routes).
export const v1 = defineEventHandler(async (event) => serveStream(event, getGateway(), { tenantId: 't1', tables: ['document'] }));
createApp().use(createRouter().get('/api/events', v1));

// h3 v2 (Nitro 3): on the app, and as a standalone handler.
export const v2 = defineHandler((event) => serveStream(event, gateway, { tenantId: 't1', resumeParam: 'from', headers: { 'x-app': '1' } }));
new H3().get('/api/events', (event) => serveStream(event, gateway, { allTenants: true, resumeParam: null })).get('/other', v2);

export async function result(event: H3EventLike): Promise<Response | undefined> {
  return serveStream(event, gateway, { tenantId: 't1' });
}
