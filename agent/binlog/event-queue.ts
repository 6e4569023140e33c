import type { DmError } from '../../src/errors/index.ts';
import type { BinlogEvent } from './events.ts';

/** The part of a binlog connection that stops and restarts the flow of events. */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

/**
 * The binlog reader's buffer (zongji-reader.ts), between zongji's events and the consumer's next(). zongji has no
 * backpressure: the binlog connection is paused above `highWater` queued row changes and resumed below `lowWater`, so
 * memory stays bounded whatever the consumer's speed. The stream's error is thrown by next() once the events queued
 * before it are taken.
 */
export class EventQueue {
  /** Events from `head` on are queued: taking one moves the head (O(1); `Array.shift()` copies the whole queue, which
   * holds up to `highWater` single-row transactions), and the taken prefix is dropped once it is half the array. */
  private queue: (BinlogEvent | undefined)[] = [];
  private head = 0;
  private queuedRows = 0;
  private waiter: (() => void) | undefined;
  private error: DmError | undefined;
  private paused = false;

  /** `connection` is the binlog connection now (none before it is open). */
  constructor(
    private readonly connection: () => FlowControl | null | undefined,
    private readonly highWater: number,
    private readonly lowWater: number,
  ) {}

  get length(): number {
    return this.queue.length - this.head;
  }
  get isPaused(): boolean {
    return this.paused;
  }
  get failed(): boolean {
    return this.error !== undefined;
  }

  /** The stream broke with `error`: a waiting next() wakes up. */
  fail(error: DmError): void {
    this.error = error;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  push(ev: BinlogEvent): void {
    // Nothing after the failure is queued: zongji goes on emitting, and a transaction whose table map or rows failed
    // would otherwise reach the consumer without those rows (and its checkpoint would move past them).
    if (this.error) return;
    this.queue.push(ev);
    if (ev.kind === 'txn' || ev.kind === 'txn-part') this.queuedRows += ev.changes.length;
    if (!this.paused && this.queuedRows > this.highWater) {
      this.paused = true;
      this.connection()?.pause();
    }
    this.wake();
  }

  /** The next event, waiting for one; rejects with the stream's error. */
  async next(timeoutMs: number): Promise<BinlogEvent | undefined> {
    if (this.length === 0 && !this.error) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiter = undefined;
          resolve();
        }, timeoutMs);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const ev = this.poll();
    if (ev) return ev;
    if (this.error) throw this.error;
    return undefined;
  }

  /** The next queued event without waiting (undefined: none queued; next() then waits or throws the stream's error).
   * The sync loop takes queued events through this: an awaited next() per single-row transaction was a promise and
   * a microtask hop each. */
  poll(): BinlogEvent | undefined {
    const ev = this.take();
    if (ev) {
      if (ev.kind === 'txn' || ev.kind === 'txn-part') this.queuedRows -= ev.changes.length;
      if (this.paused && this.queuedRows < this.lowWater) {
        this.paused = false;
        this.connection()?.resume();
      }
    }
    return ev;
  }

  private take(): BinlogEvent | undefined {
    if (this.head >= this.queue.length) return undefined;
    const ev = this.queue[this.head]!;
    this.queue[this.head] = undefined; // collected now, not when the prefix is dropped
    this.head++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return ev;
  }
}
