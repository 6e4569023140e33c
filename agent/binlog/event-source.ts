import type { BinlogEvent } from './events.ts';
import type { BinlogPosition } from '../../src/binlog/position.ts';

/**
 * What the sync unit reads from: the upstream binlog directly (BinlogReader, zongji) or the source's relay log
 * (RelayReader). Both deliver whole transactions and statements in binlog order, decoded with the schema as of
 * each event, with the task's schema tracker updated at each DDL before any later row is handed out.
 */
export interface EventSource {
  start(): void;
  /** The next event, waiting up to `timeoutMs` for one; rejects with the source's error. */
  next(timeoutMs?: number): Promise<BinlogEvent | undefined>;
  /** The next buffered event without waiting, when the source has one at hand (undefined: call next()). */
  poll?(): BinlogEvent | undefined;
  /** A position past events that carry nothing to apply, when that is a safe place to resume (else undefined). */
  streamPosition(): BinlogPosition | undefined;
  /** True when nothing is buffered (and, for the relay, the reader is at the relay's head). */
  readonly idle: boolean;
  stop(): Promise<void>;
}
