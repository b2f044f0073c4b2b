// Request/reply over a forked child's IPC channel: one message out, the next message back. Every
// benchmark child process answers each command with exactly one message; `{ error }` rejects.
import { fork } from 'node:child_process';

/** Forks `file` (on `execPath`, default this Node) and returns `{ child, ask(msg, timeoutMs?) }`. */
export function forkAsk(file, { execArgv = [], env, execPath } = {}) {
  const child = fork(file, { execArgv, env: env ?? process.env, ...(execPath ? { execPath } : {}) });
  const ask = (msg, timeoutMs = 120_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${file}: no answer to ${msg.cmd} within ${timeoutMs} ms`)), timeoutMs);
      child.once('message', (reply) => {
        clearTimeout(timer);
        if (reply?.error) reject(new Error(`${file}: ${reply.error}`));
        else resolve(reply);
      });
      child.send(msg);
    });
  return { child, ask };
}
