// One replica of examples/replicas/replica.mjs as a child process on a free 127.0.0.1 port, for the
// replicas suite and the resume-storm benchmark when they need a replica outside scripts/replicas.sh
// (its own SpacetimeDB URL, or its own process for /proc to charge alone).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../spacetimedb-dev/instance.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Starts the replica app with `env` (SPACETIMEDB_URL, SPACETIMEDB_DB, REPLICA_NAME, …); resolves
 * `{ pid, port, url, stop() }` once its /healthz answers 200. `stop()` sends SIGTERM (the farewell) and
 * resolves when it exited.
 */
export async function startReplica(env) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'examples/replicas/replica.mjs')], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 30_000; ; ) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the replica on port ${port} did not become healthy`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid,
    port,
    url,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
