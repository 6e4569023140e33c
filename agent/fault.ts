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

/**
 * True in an agent started again after crashPoint(point) killed it (TSDM_FAULT_AFTER names the point and its once
 * file exists): a crash test's way to change the agent's timing for the replay only.
 */
export function faultAfter(point: string): boolean {
  const after = process.env.TSDM_FAULT_AFTER;
  const once = process.env.TSDM_FAULT_ONCE_FILE;
  return !!after && !!once && after.split(',').includes(point) && existsSync(`${once}.${point}`);
}
