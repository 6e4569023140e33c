/**
 * Dump, load and sync settings of one mysql-instance: the named config (mydumpers/loaders/syncers) or the
 * inline one, then the `-thread` override, then DM's defaults. DM fills defaults per config block, so a
 * named block that sets only `batch` still gets the default worker-count.
 */
import type { DumpConfig, LoadConfig, SyncConfig, ValidatorConfig } from './types.ts';
import { parseGoDuration } from './dm-values.ts';
import type { RawInstance, RawLoader, RawMydumper, RawSyncer, RawValidator } from './task-schema.ts';
import type { ConfigIssue } from './yaml-schema.ts';
import type { ConfigPath } from './yaml-source.ts';

/**
 * DM's defaults (dm/config/task.go), except rows (DM's 0 means "no chunking", tsdm always chunks) and writerCount:
 * DM's 16 sync writers cost tsdm's downstream about twice the CPU per row of 1-2 writers and halve the catch-up rate
 * on a 2-core machine (issue #14: 100-row transactions 37k rows/s with 16 writers, 50-71k with 2; single-row 10.5k
 * vs 17-23k; lag p99 at 5k rows/s 422 ms vs 94 ms). A downstream with many cores and slow commits can use more:
 * `worker-count` sets it.
 */
export const TASK_DEFAULTS = {
  dumpThreads: 4,
  dumpRows: 10000,
  chunkFilesize: 64,
  skipTzUtc: true,
  loadPoolSize: 16,
  onDuplicate: 'replace' as const,
  writerCount: 2,
  batch: 100,
  checkpointFlushInterval: 30,
  safeMode: false,
  compact: false,
  multipleRows: false,
  largeTxnRows: 10000,
};

/** Where a unit's settings came from, for error locations. */
export interface UnitSource<T> {
  value: T;
  path: ConfigPath;
}

export function dumpConfig(inst: RawInstance, from: UnitSource<RawMydumper>): DumpConfig {
  const m = from.value;
  // DM: an empty chunk-filesize is the default ("64"), like every "" below (DM's adjust() fills empty strings).
  const chunk = Number(m['chunk-filesize'] || TASK_DEFAULTS.chunkFilesize);
  return {
    threads: inst['mydumper-thread'] || m.threads || TASK_DEFAULTS.dumpThreads,
    rows: m.rows || TASK_DEFAULTS.dumpRows,
    chunkFilesize: Number.isFinite(chunk) ? chunk : TASK_DEFAULTS.chunkFilesize,
    skipTzUtc: m['skip-tz-utc'] ?? TASK_DEFAULTS.skipTzUtc,
    where: m.where ?? '',
  };
}

export function loadConfig(inst: RawInstance, from: UnitSource<RawLoader>, issues: ConfigIssue[]): LoadConfig {
  const l = from.value;
  const logical = l['on-duplicate-logical']?.toLowerCase() || undefined;
  const deprecated = l['on-duplicate']?.toLowerCase() || undefined;
  if (logical && deprecated && logical !== deprecated) {
    issues.push({
      name: 'ConfigDeprecatedConflict',
      path: [...from.path, 'on-duplicate'],
      message: `on-duplicate (deprecated) is "${deprecated}" but on-duplicate-logical is "${logical}"; keep only on-duplicate-logical`,
    });
  }
  return {
    poolSize: inst['loader-thread'] || l['pool-size'] || TASK_DEFAULTS.loadPoolSize,
    onDuplicate: (logical ?? deprecated ?? TASK_DEFAULTS.onDuplicate) as LoadConfig['onDuplicate'],
  };
}

export function syncConfig(inst: RawInstance, from: UnitSource<RawSyncer>, issues: ConfigIssue[]): SyncConfig {
  const s = from.value;
  const flush = s['checkpoint-flush-interval'] || TASK_DEFAULTS.checkpointFlushInterval;
  const raw = s['safe-mode-duration'];
  // DM: default safe-mode-duration is twice the checkpoint flush interval ("60s" with the defaults).
  const duration =
    raw === undefined || raw === '' ? 2 * flush : typeof raw === 'number' ? raw : (parseGoDuration(raw) ?? 2 * flush);
  const safeMode = s['safe-mode'] ?? TASK_DEFAULTS.safeMode;
  if (safeMode && duration === 0) {
    issues.push({
      name: 'ConfigInvalid',
      path: [...from.path, 'safe-mode-duration'],
      message: 'safe-mode: true conflicts with safe-mode-duration 0 (DM rejects this too); remove one of them',
    });
  }
  return {
    writerCount: inst['syncer-thread'] || s['worker-count'] || TASK_DEFAULTS.writerCount,
    batch: s.batch || TASK_DEFAULTS.batch,
    safeMode,
    safeModeDuration: duration,
    compact: s.compact ?? TASK_DEFAULTS.compact,
    multipleRows: s['multiple-rows'] ?? TASK_DEFAULTS.multipleRows,
    largeTxnRows: s['large-txn-rows'] || TASK_DEFAULTS.largeTxnRows,
  };
}

/**
 * DM's validator defaults (dm/config/task.go), except max-pending-row-count: DM caps pending rows by size (500m) and
 * count (unlimited); tsdm caps by count only, at 100000 rows by default (about 100 MB of row images at 1 KB a row).
 */
export const VALIDATOR_DEFAULTS = {
  workerCount: 4,
  validateInterval: 10,
  checkInterval: 5,
  rowErrorDelay: 30 * 60,
  batchQuerySize: 100,
  maxPendingRowCount: 100_000,
};

const durationMs = (v: string | number | undefined, dflt: number): number => {
  if (v === undefined || v === '') return dflt * 1000;
  const secs = typeof v === 'number' ? v : parseGoDuration(v);
  return Math.round((secs ?? dflt) * 1000);
};

/** The validator an instance names (validator-config-name), with DM's defaults; mode none when it names none. */
export function validatorConfig(
  raw: RawValidator | undefined,
  issues: ConfigIssue[],
  path: ConfigPath,
): ValidatorConfig {
  const v = raw ?? {};
  const mode = (v.mode ? v.mode.toLowerCase() : 'none') as ValidatorConfig['mode'];
  const cfg: ValidatorConfig = {
    mode,
    workerCount: v['worker-count'] || VALIDATOR_DEFAULTS.workerCount,
    validateIntervalMs: durationMs(v['validate-interval'], VALIDATOR_DEFAULTS.validateInterval),
    checkIntervalMs: durationMs(v['check-interval'], VALIDATOR_DEFAULTS.checkInterval),
    rowErrorDelayMs: durationMs(v['row-error-delay'], VALIDATOR_DEFAULTS.rowErrorDelay),
    batchQuerySize: v['batch-query-size'] || VALIDATOR_DEFAULTS.batchQuerySize,
    maxPendingRowCount: v['max-pending-row-count'] || VALIDATOR_DEFAULTS.maxPendingRowCount,
  };
  if (cfg.checkIntervalMs === 0)
    issues.push({
      name: 'ConfigInvalid',
      path: [...path, 'check-interval'],
      message: 'check-interval must be more than 0 (a differing row would be read again without pause)',
    });
  return cfg;
}
