export * from './buckets.ts';
export * from './records.ts';
export { Coord, isCasConflict, type CoordOptions, type Entry } from './client.ts';

export * from './ops.ts';
export { readStatus, type TaskView } from './status-view.ts';
