// What one process costs, read from /proc (Linux): its own CPU seconds and its peak RSS over a window,
// so each gateway variant is charged only for its own work (the writer, the clients and SpacetimeDB run
// in other processes).
import { readFileSync, writeFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: `getconf CLK_TCK` is 100 on every Linux this runs on

/** utime + stime of `pid` in seconds (10 ms resolution). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // fields 14 and 15 of stat(5)
}

/** `{ rss, hwm }` in bytes: current and peak resident set size. */
export function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** Resets the peak RSS (VmHWM) of `pid` to its current RSS, so the next reading is this window's peak. */
export function resetPeak(pid) {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}
