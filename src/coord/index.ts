export * from './buckets.ts';
export * from './records.ts';
export * from './relay-records.ts';
export * from './check-records.ts';
export { KvAnomalyKind, KvHealth, readBehindWriteAnomaly, type KvAnomaly, type KvHealthReport } from './kv-health.ts';
export { Coord, isCasConflict, READ_RETRY_MS, type CoordOptions, type Entry } from './client.ts';
export { openNats, resolveNatsAuth, splitUrlCredentials, type NatsAuth } from './nats-auth.ts';
export {
  NATS_FLAGS,
  NATS_OPTIONS,
  flagProp,
  natsSettingsFrom,
  secretFlagProblem,
  type NatsOrigins,
  type NatsSettings,
} from './nats-flags.ts';

export * from './ops.ts';
export * from './plan-records.ts';
export { readRelays, readStatus, type SourceView, type TaskView, type CheckSummary } from './status-view.ts';
export { deriveSync, percentText, type SyncState, type SyncView } from './status-derive.ts';
export { checkLine } from './check-view.ts';
export { validationLine } from './validation-view.ts';
export {
  EventPublisher,
  NO_EVENTS,
  ensureEventStream,
  eventsOf,
  setEvents,
  followEvents,
  lastEventSeq,
  readEvents,
  type EventQuery,
  type EventSink,
} from './event-stream.ts';
