/**
 * CPU time of a process (user + system, all threads) from /proc/<pid>/stat. On this shared 2-core box wall-clock rates
 * move with other work; CPU seconds per row do much less, so each incremental line shows them for the agent and
 * for the server applying the rows.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime/stime (USER_HZ: 100 on every Linux tsdm runs on). */
const TICKS = 100;

/** Seconds of CPU the process used so far, or undefined when it cannot be read. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, utime 14, stime 15.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return undefined;
  }
}

/** CPU seconds per 100k rows between two readings, as text ('?' when either is missing). */
export function per100k(from: number | undefined, to: number | undefined, rows: number): string {
  if (from === undefined || to === undefined || rows <= 0) return '?';
  return `${(((to - from) * 100_000) / rows).toFixed(2)} s`;
}

/** CPU seconds of this process's children that have ended and been waited for (cutime + cstime of /proc/self/stat):
 * the baseline's tools (mydumper, myloader, mysqldump, mysql) run as children of the bench. */
export function childrenCpuSeconds(): number | undefined {
  try {
    const s = readFileSync('/proc/self/stat', 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / TICKS;
  } catch {
    return undefined;
  }
}

/** CPU seconds per 1M rows between two readings, as text ('?' when either is missing). */
export function per1M(from: number | undefined, to: number | undefined, rows: number): string {
  if (from === undefined || to === undefined || rows <= 0) return '?';
  return `${(((to - from) * 1_000_000) / rows).toFixed(2)}`;
}
