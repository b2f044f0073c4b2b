// A per-user write limit: at most `max` writes per window, counted per actor id (the Better Auth user).
// In memory, per process: behind several replicas each replica counts alone, so divide the limit by the
// replica count or move the counter to a shared store (Redis INCR + EXPIRE has the same shape).
import { getConfig, type Limit } from './config';
import { appError } from './errors';

interface Window {
  startedAt: number;
  count: number;
}

const KEY = Symbol.for('spacetime-gateway-example.write-limit');
const windows = ((globalThis as Record<symbol, Map<string, Window>>)[KEY] ??= new Map());

/** Counts one write of `actor`, or throws RATE_LIMITED with the seconds until the window ends. */
export function takeWrite(actor: string, limit: Limit = getConfig().writeLimit, now = Date.now()): void {
  let window = windows.get(actor);
  if (!window || now - window.startedAt >= limit.windowMs) {
    if (windows.size > 10_000) prune(limit, now);
    window = { startedAt: now, count: 0 };
    windows.set(actor, window);
  }
  if (window.count >= limit.max) {
    const retryAfter = Math.ceil((window.startedAt + limit.windowMs - now) / 1000);
    throw appError('RATE_LIMITED', `too many writes: at most ${limit.max} per ${limit.windowMs / 1000} s; try again in ${retryAfter} s`, retryAfter);
  }
  window.count++;
}

/** Forgets finished windows, so the map stays as large as the set of recently active users. */
function prune(limit: Limit, now: number): void {
  for (const [actor, window] of windows) if (now - window.startedAt >= limit.windowMs) windows.delete(actor);
}
