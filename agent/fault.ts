import { existsSync, writeFileSync } from 'node:fs';

/**
 * Crash-test hook (tests only): with TSDM_FAULT_CRASH_AT=<point>[,<point>…] the agent kills itself with SIGKILL the first time
 * it passes that point; TSDM_FAULT_ONCE_FILE names a file prefix (`<prefix>.<point>` is created just before), so the restarted agent (same
 * environment) goes on. Unset in production: one environment lookup per call.
 */
export function crashPoint(point: string): void {
  if (!faultArmed(point)) return;
  const once = process.env.TSDM_FAULT_ONCE_FILE;
  if (once) writeFileSync(`${once}.${point}`, point);
  process.kill(process.pid, 'SIGKILL');
}

/** True when crashPoint(point) would kill the agent now (for a point that must first bring the agent into shape). */
export function faultArmed(point: string): boolean {
  const at = process.env.TSDM_FAULT_CRASH_AT;
  if (!at || !at.split(',').includes(point)) return false;
  const once = process.env.TSDM_FAULT_ONCE_FILE;
  return !once || !existsSync(`${once}.${point}`);
}
