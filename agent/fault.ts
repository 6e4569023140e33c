import { existsSync, writeFileSync } from 'node:fs';

/**
 * Crash-test hook (tests only): with TSDM_FAULT_CRASH_AT=<point>[,<point>…] the agent kills itself with SIGKILL the first time
 * it passes that point; TSDM_FAULT_ONCE_FILE names a file prefix (`<prefix>.<point>` is created just before), so the restarted agent (same
 * environment) goes on. Unset in production: one environment lookup per call.
 */
export function crashPoint(point: string): void {
  const at = process.env.TSDM_FAULT_CRASH_AT;
  if (!at || !at.split(',').includes(point)) return;
  const once = process.env.TSDM_FAULT_ONCE_FILE;
  if (once) {
    const f = `${once}.${point}`;
    if (existsSync(f)) return;
    writeFileSync(f, point);
  }
  process.kill(process.pid, 'SIGKILL');
}
