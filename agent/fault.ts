import { existsSync, writeFileSync } from 'node:fs';

/**
 * Crash-test hook (tests only): with TSDM_FAULT_CRASH_AT=<point>[,<point>…] the agent kills itself with SIGKILL the first time
 * it passes that point; TSDM_FAULT_ONCE_FILE names a file prefix (`<prefix>.<point>` is created just before), so the restarted agent (same
 * environment) goes on. Unset in production: one environment lookup per call.
 */
export function crashPoint(point: string): void {
  if (!faultArmed(point)) return;
  const once = onceFile(point);
  if (once) writeFileSync(once, point);
  process.kill(process.pid, 'SIGKILL');
}

/** True when crashPoint(point) would kill the agent now (for a point that must first bring the agent into shape). */
export function faultArmed(point: string): boolean {
  if (!names(process.env.TSDM_FAULT_CRASH_AT, point)) return false;
  const once = onceFile(point);
  return !once || !existsSync(once);
}

/**
 * True in an agent started again after crashPoint(point) killed it (TSDM_FAULT_AFTER names the point and its once
 * file exists): a crash test's way to change the agent's timing for the replay only.
 */
export function faultAfter(point: string): boolean {
  const once = onceFile(point);
  return names(process.env.TSDM_FAULT_AFTER, point) && once !== undefined && existsSync(once);
}

/** True when a comma-separated list of points names `point`. */
function names(list: string | undefined, point: string): boolean {
  return !!list && list.split(',').includes(point);
}

/** The file that records `point` fired (TSDM_FAULT_ONCE_FILE's prefix), if the test gave one. */
function onceFile(point: string): string | undefined {
  const prefix = process.env.TSDM_FAULT_ONCE_FILE;
  return prefix ? `${prefix}.${point}` : undefined;
}
