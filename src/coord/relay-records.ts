import type { ErrorRecord } from '../errors/index.ts';
import type { DesiredStage } from './records.ts';
import type { BinlogPosition } from '../binlog/position.ts';

/** dm_status/relay.<source>: written by the agent bound to the source, about once a second (DESIGN.md §3). */
export interface RelayStatus {
  source: string;
  agent: string;
  /** Running: pulling the upstream binlog; Paused/Stopped: by pause-relay/stop-relay or an error (see `error`). */
  stage: DesiredStage;
  /** Upstream head (SHOW MASTER STATUS) as last seen. */
  master?: BinlogPosition;
  /** Position after the last record in the relay (where the upstream stream resumes). */
  relayPos?: BinlogPosition;
  /** Segment of the current upstream server (bumped when its server uuid changes) and that uuid. */
  segment?: number;
  serverUuid?: string;
  /** Seconds between the last relayed event's upstream time and now (0 when the relay is at the head). */
  lagSeconds: number;
  /** First and last sequence numbers stored; the lowest still needed by a reader (purge stops below it). */
  firstSeq: number;
  lastSeq: number;
  neededSeq?: number;
  /** The task that needs `neededSeq` (the slowest one). */
  neededBy?: string;
  readers: number;
  size: { fileBytes: number; usedBytes: number; reusableBytes: number; records: number };
  /** Backpressure: whether the upstream binlog connection is paused now, and how often it was. */
  upstreamPaused: boolean;
  upstreamPauses: number;
  /** Events received per second (window of a few seconds). */
  eventsPerSecond: number;
  lastPurge?: { at: string; records: number; reason: string };
  error?: ErrorRecord;
  updatedAt: string;
}
