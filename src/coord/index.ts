export * from './buckets.ts';
export * from './records.ts';
export * from './relay-records.ts';
export { Coord, isCasConflict, READ_RETRY_MS, type CoordOptions, type Entry } from './client.ts';

export * from './ops.ts';
export { readRelays, readStatus, type TaskView } from './status-view.ts';
