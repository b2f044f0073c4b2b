'use strict';
// `smoke --simulate expiry|disconnect`: the failures a gateway lives through, exercised for real, and
// checked on the SSE stream: every call's event must arrive exactly once, with no resync.
//
// - expiry: tokens that live a few seconds; calls keep coming while the gateway refreshes its token
//   (make-before-break: a new connection, resubscribed, switched to without a gap).
// - disconnect: the gateway drops its connection (`dropConnection()`, as a network failure would); a
//   second connection writes while it is away; the gateway reconnects, resubscribes and catches up by
//   diff — the missed writes reach the stream as ordinary events.

const { Gateway } = require('../../../lib/index.js');
const { deliveryReport, framesCarrying } = require('./expect.js');
const { Steps, StepFailure } = require('./steps.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves on the first state matching `predicate`; `off()` removes the listener. */
function stateWatch(gateway, predicate) {
  let off;
  const reached = new Promise((resolve) => {
    off = gateway.onState((state) => predicate(state) && resolve(state));
  });
  return { reached, off: () => off() };
}

async function expiry({ gateway, plan, steps, call }) {
  const markers = [];
  let refreshedAt = null;
  const refreshed = stateWatch(gateway, (s) => s.status === 'live' && s.reason === 'token refreshed');
  refreshed.reached.then(() => (refreshedAt = markers.length));
  const interval = Math.max(100, Math.round((plan.ttlSeconds * 1000) / plan.simulateCalls));
  const budget = plan.ttlSeconds * 2000 + plan.timeoutMs;
  try {
    await steps.run(
      'simulate expiry',
      async () => {
        for (let n = 1; refreshedAt === null || markers.length - refreshedAt < 2 || markers.length < plan.simulateCalls; n++) {
          await call(gateway, n);
          markers.push(plan.marker(n));
          await sleep(interval);
        }
        return Steps.detail(null, `token refreshed after call ${refreshedAt} of ${markers.length}`);
      },
      budget,
    );
  } finally {
    refreshed.off();
  }
  return { markers, refreshedAfterCall: refreshedAt };
}

async function disconnect({ gateway, plan, steps, call, connectOptions }) {
  const markers = [];
  let rehydrated = 0;
  const offChange = gateway.onChange((changes, meta) => {
    if (meta.rehydrated) rehydrated += changes.length;
  });
  const writer = await steps.run('simulate disconnect: second connection', () => Gateway.connect(connectOptions()));
  try {
    await call(gateway, 1);
    markers.push(plan.marker(1));
    const back = stateWatch(gateway, (s) => s.status === 'live' && s.reason === 'reconnected');
    try {
      await steps.run('simulate disconnect: drop', async () => {
        const away = stateWatch(gateway, (s) => s.status === 'reconnecting');
        gateway.dropConnection('smoke --simulate disconnect');
        await away.reached;
        away.off();
        return Steps.detail(null, 'the gateway is reconnecting');
      });
      await steps.run('simulate disconnect: writes while away', async () => {
        for (let n = 2; n < Math.max(3, plan.simulateCalls); n++) {
          await call(writer, n);
          markers.push(plan.marker(n));
        }
        const live = gateway.state.status === 'live';
        return Steps.detail(null, `${markers.length - 1} calls on a second connection${live ? ' (the gateway was already back: not a catch-up)' : ''}`);
      });
      await steps.run('simulate disconnect: reconnect', async () => {
        await back.reached;
        return Steps.detail(null, `back, ${rehydrated} changes caught up by diff`);
      });
    } finally {
      back.off();
    }
    const last = Math.max(3, plan.simulateCalls);
    await steps.run('simulate disconnect: call after', () => call(gateway, last));
    markers.push(plan.marker(last));
  } finally {
    offChange();
    await writer.close();
  }
  return { markers, caughtUp: rehydrated };
}

/**
 * Runs the simulation `plan.simulate` and checks delivery on `sse`; resolves the report
 * `{ mode, calls, received, lost, repeated, resyncs, … }` or throws a StepFailure (exit 1).
 */
async function simulate(context) {
  const { plan, steps, sse } = context;
  const outcome = plan.simulate === 'expiry' ? await expiry(context) : await disconnect(context);
  return steps.run('simulate: delivery', async () => {
    const all = () => outcome.markers.every((m) => framesCarrying(sse.frames, m).length > 0);
    await sse.waitFor(all, Math.round(plan.timeoutMs * 0.95), 'the events of every simulated call').catch(() => {});
    // A repeat could still be on its way: give it a moment to show up before counting.
    await sleep(200);
    const report = { mode: plan.simulate, ...deliveryReport(sse.frames, outcome.markers), ...outcome };
    delete report.markers;
    const problems = [];
    if (report.lost.length) problems.push(`${report.lost.length} lost (${report.lost.join(', ')})`);
    if (report.repeated.length) problems.push(`${report.repeated.length} repeated (${report.repeated.join(', ')})`);
    if (report.resyncs.length) problems.push(`the stream resynced (${report.resyncs.join(', ')})`);
    if (problems.length) throw Object.assign(new StepFailure('simulate: delivery', 1, 'EVENTS_LOST_OR_REPEATED', `${report.calls} calls: ${problems.join('; ')}`), { report });
    return Steps.detail(report, `${report.calls} calls, ${report.received} events, 0 lost, 0 repeated`);
  });
}

module.exports = { simulate };
