import { spec, type ErrorSpec } from './spec.ts';

/** The catalog's relay errors (TSDM-4xxxx), in the order docs/errors.md lists them. */
export const relayErrors = {
  RelayStore: spec(
    'TSDM-40001',
    'relay',
    false,
    'relay store failed',
    'Check the agent data dir (disk space, permissions).',
  ),
  RelayPositionNotFound: spec(
    'TSDM-40002',
    'relay',
    false,
    'the task needs binlog the relay does not hold',
    'Start the relay from an older position (relay-binlog-name / relay-binlog-gtid in source.yaml, then remove the relay data and restart it), or restart the task with `start-task --remove-meta`.',
  ),
  RelayPurged: spec(
    'TSDM-40003',
    'relay',
    false,
    'relay data the task needed was purged',
    'Restart the task with `start-task --remove-meta` (full migration again); keep tasks from lagging past the purge settings.',
  ),
  RelayNotReady: spec(
    'TSDM-40004',
    'relay',
    true,
    'the relay of this source has not started yet',
    'Nothing to do if it is starting: the task retries. Otherwise check `dmctl query-status` for the relay error (upstream connection, binlog).',
  ),
  RelayPurgeRefused: spec(
    'TSDM-40005',
    'relay',
    false,
    'purge-relay would remove relay data a task still needs',
    "Purge up to an older file, or let the slowest task catch up (or stop it) first; `dmctl query-status` shows each task's position.",
  ),
  RelayNotEnabled: spec(
    'TSDM-40006',
    'relay',
    false,
    'the source has no relay on its agent',
    'Set enable-relay: true in source.yaml or run `dmctl start-relay -s SOURCE`.',
  ),
} as const satisfies Record<string, ErrorSpec>;
