// The SSE clients of bench/relay-fanout.mjs, in their own process: N connections, frame counting and
// commit-to-client latency (the row's `updated_at` is the reducer's start time, same machine clock).
import http from 'node:http';

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
let sockets = [];
let latencies = [];
let frames = 0;
let lastBlock = '';
let resyncs = 0;

function open(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (text) => {
        const now = Date.now() * 1000;
        const blocks = (rest + text).split('\n\n');
        rest = blocks.pop();
        for (const b of blocks) {
          frames++;
          lastBlock = b;
          if (b.includes('event: resync')) resyncs++;
          const at = b.indexOf('"updated_at":"');
          if (b.includes('event: document.insert') && at !== -1) {
            const text = b.slice(at + 14, at + 14 + 26);
            const ts = Date.parse(text.slice(0, 23) + 'Z') * 1000 + Number(text.slice(23, 26));
            latencies.push(now - ts);
          }
        }
      });
      resolve();
    });
    req.on('error', () => resolve());
    sockets.push(req);
  });
}

process.on('message', async (msg) => {
  if (msg.cmd === 'open') {
    await Promise.all(msg.urls.map(open));
    process.send({ ok: true });
  } else if (msg.cmd === 'reset') {
    latencies = [];
    frames = 0;
    resyncs = 0;
    process.send({ ok: true });
  } else if (msg.cmd === 'report') {
    latencies.sort((a, b) => a - b);
    const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] / 1000 : NaN);
    process.send({ frames, inserts: latencies.length, p50: q(0.5), p99: q(0.99), resyncs, sample: lastBlock.slice(0, 300) });
  } else if (msg.cmd === 'close') {
    for (const s of sockets) s.destroy();
    sockets = [];
    process.send({ ok: true });
  }
});
