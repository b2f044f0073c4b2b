'use strict';
// `smoke`: the browser-free end-to-end check an app's CI runs against local or staging SpacetimeDB.
// Token → connect → subscribe → SSE stream over a real local HTTP server → the reducer call → the call's
// event on the stream, with its envelope checked against the expectations; optionally `--simulate
// expiry|disconnect`. Every step has a deadline and a name; the exit code says what failed.

const { Gateway, decodeToken } = require('../../lib/index.js');
const { EXIT, print, printJson } = require('./output.js');
const { envelopeProblems, expectationProblems, framesCarrying } = require('./smoke/expect.js');
const { smokePlan } = require('./smoke/options.js');
const { simulate } = require('./smoke/simulate.js');
const { openStreamRoundTrip } = require('./smoke/sse.js');
const { Steps, StepFailure } = require('./smoke/steps.js');
const { tokenSource } = require('./smoke/token-source.js');

const isChange = (f) => f.data && /\.(insert|update|delete)$/.test(f.event);
/** Resolves `true` once `promise` settles, `false` once `ms` passed (the timer keeps nothing alive). */
const withinDeadline = (promise, ms) => Promise.race([promise.then(() => true), new Promise((r) => setTimeout(r, ms, false).unref())]);
const expectationFailure = (step, problems) => new StepFailure(step, 1, 'EXPECTATION_FAILED', problems.join('; '));

/** A token function for the gateway: the first token, then fresh ones from the source (or always the same). */
function tokenFunction(source, first) {
  if (!source.refreshable) return first;
  let pending = first;
  return async () => {
    const token = pending ?? (await source.token());
    pending = null;
    return token;
  };
}

async function runSteps(plan, steps, report, closers) {
  const { source, token } = await steps.run('token', async () => {
    const s = tokenSource(plan.values, { ttlSeconds: plan.ttlSeconds });
    if (plan.simulate === 'expiry' && !s.refreshable) {
      throw new StepFailure('token', EXIT.USAGE, 'USAGE', '--simulate expiry needs a source that can mint again (--key or --token-url), not a fixed token');
    }
    const first = await s.token();
    const { payload } = decodeToken(first);
    const expires = typeof payload.exp === 'number' ? `, expires in ${Math.round(payload.exp - Date.now() / 1000)} s` : '';
    return Steps.detail({ source: s, token: first }, `sub ${payload.sub} (${s.describe}${expires})`);
  });
  const connectOptions = () => ({
    uri: plan.url,
    database: plan.database,
    token: tokenFunction(source, token),
    timeoutMs: plan.timeoutMs,
    ...(plan.tenantColumn ? { tenantColumn: plan.tenantColumn } : {}),
    // A reconnect slow enough that the simulated outage really has writes to catch up on.
    ...(plan.simulate === 'disconnect' ? { reconnect: { initialDelayMs: 500, maxDelayMs: 2000 } } : {}),
  });
  const gateway = await steps.run('connect', async () => {
    const g = await Gateway.connect(connectOptions());
    closers.push(() => g.close());
    return Steps.detail(g, `identity ${g.identity}`);
  });
  await steps.run('subscribe', async () => {
    await gateway.subscribe(plan.subscriptions);
    return Steps.detail(null, `${plan.subscriptions.length} quer${plan.subscriptions.length === 1 ? 'y' : 'ies'}`);
  });
  const sse = await steps.run('stream', async () => {
    const client = await openStreamRoundTrip(() => gateway.stream(plan.fill(plan.stream, 0)));
    closers.push(() => client.close());
    if (client.status !== 200) {
      const body = await client.waitFor((_, c) => c.ended && (c.error ?? ''), 2000, 'the refusal').catch(() => '');
      throw new StepFailure('stream', /INVALID_ARGUMENT/.test(body) ? EXIT.USAGE : 1, 'STREAM_REFUSED', `the SSE route answered HTTP ${client.status}: ${body}`);
    }
    await client.waitFor((frames) => frames.some((f) => f.event === 'snapshot' && f.data?.payload.phase === 'end'), Math.round(plan.timeoutMs * 0.95), 'complete snapshot');
    const rows = client.frames.filter((f) => f.event === 'snapshot' && f.data.payload.phase === 'rows').reduce((n, f) => n + f.data.payload.rows.length, 0);
    return Steps.detail(client, `HTTP 200, snapshot of ${rows} rows`);
  });
  const actorOpts = plan.actor === undefined ? {} : { actor: plan.fill(plan.actor, 0) };
  const call = (g, n, spec = plan.call) => g.callReducer(spec.reducer, plan.fill(spec.args, n), actorOpts);
  for (const [i, spec] of plan.setup.entries()) {
    await steps.run(`setup ${spec.reducer}`, () => call(gateway, `setup${i}`, spec));
  }
  const before = sse.frames.length;
  await steps.run(`call ${plan.call.reducer}`, async () => {
    const result = await call(gateway, 0);
    return Steps.detail(result, `committed${result.timestamp ? ` at ${result.timestamp}` : ''}`);
  });
  await steps.run('event', async () => {
    const what = plan.marks ? `SSE event carrying ${plan.marker(0)}` : 'SSE change event after the call';
    const find = (frames) => (plan.marks ? framesCarrying(frames, plan.marker(0))[0] : frames.slice(before).find(isChange));
    const frame = await sse.waitFor(find, Math.round(plan.timeoutMs * 0.95), what).catch((e) => {
      throw expectationFailure('event', [e.message]);
    });
    const problems = expectationProblems(frame, plan.fill(plan.expect, 0));
    if (problems.length) throw expectationFailure('event', problems);
    report.event = { event: frame.event, id: frame.id, tenant_id: frame.data.tenant_id, schema_version: frame.data.schema_version, payload: frame.data.payload };
    return Steps.detail(frame, `${frame.event} id ${frame.id}`);
  });
  if (plan.simulate) report.simulate = await simulate({ gateway, plan, steps, sse, call, connectOptions });
  await steps.run('envelopes', async () => {
    const problems = envelopeProblems(sse.frames);
    const ended = sse.frames.find((f) => f.event === 'revoked' || f.event === 'closed');
    if (ended) problems.push(`the stream ended: ${ended.event} (${ended.data.payload.reason})`);
    if (problems.length) throw expectationFailure('envelopes', problems);
    return Steps.detail(null, `${sse.frames.filter((f) => f.data).length} frames, ids in order`);
  });
}

async function smoke(argv) {
  const plan = smokePlan(argv);
  const json = Boolean(plan.values.json);
  const progress = !json && (plan.values.progress || process.stderr.isTTY) ? (line) => process.stderr.write(`${line}\n`) : () => {};
  const steps = new Steps({ progress, timeoutMs: plan.timeoutMs });
  const report = { ok: false, run: plan.run, url: plan.url, database: plan.database, steps: steps.done };
  const closers = [];
  const started = performance.now();
  let failure = null;
  try {
    await runSteps(plan, steps, report, closers);
    report.ok = true;
  } catch (err) {
    failure = err instanceof StepFailure ? err : new StepFailure('smoke', 70, 'INTERNAL', err.stack ?? String(err));
    report.failure = { step: failure.step, code: failure.code, message: failure.message };
    if (err.report) report.simulate = err.report;
  } finally {
    // Closing has a deadline too: a server that stops answering must not hold the process. If a close
    // did not finish, whatever it left open may keep Node running: exit shortly after the report.
    let closed = true;
    for (const close of closers.reverse()) closed = (await withinDeadline(close().catch(() => {}), plan.timeoutMs)) && closed;
    if (!closed) setTimeout(() => process.exit(), 1000).unref();
  }
  report.ms = Math.round(performance.now() - started);
  if (json) printJson(report);
  else if (failure) process.stderr.write(`smoke failed: ${failure.message}\n`);
  else {
    print(`smoke passed: ${steps.done.length} steps in ${report.ms} ms (${plan.url}, ${plan.database})`);
    const s = report.simulate;
    if (s) print(`simulate ${s.mode}: ${s.calls} calls, ${s.received} events, ${s.lost.length} lost, ${s.repeated.length} repeated`);
  }
  return failure ? failure.exitCode : EXIT.OK;
}

module.exports = { smoke };
