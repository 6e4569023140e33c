import { type BinlogPosition, comparePos, formatPos, posKey } from '../../src/binlog/position.ts';
import { DmError } from '../../src/errors/index.ts';
import type { Logger } from '../log.ts';

/**
 * A hold of the sync unit: check-data's consistent point (agent/verify/consistent-point.ts). Held at H, the downstream
 * reflects exactly the upstream events ending at or before H and nothing after them: every writer committed (the
 * pipelined batch in flight settled) and the read loop takes no event. Asked without `until`, H is where the loop has
 * read to; with `until`, the loop goes on applying events up to `until` and stops there (an event ending after it is
 * kept, and applied only after the release).
 *
 * The loop asks `decide()` before it handles each event (or each idle step) and does what it says; everything else is
 * the caller's side (`request`, `release`), served by the agent op `sync-hold`.
 *
 * Invariants:
 * - A hold is reached only at a point where the downstream is a prefix of the stream: no barrier in progress (a DDL
 *   runs inside one loop step, so it is always finished here; shard tables held by a DDL lock are not, so a hold waits
 *   for their lock), and no writer ahead of the read position (right after a restart writers may stand at different
 *   positions until the stream passes the highest).
 * - A reached hold never lasts longer than its TTL without being renewed (a dead caller never stalls replication),
 *   and it ends with the unit (pause, stop, error: `close`).
 * - One hold at a time: a request with another holdId is refused while one exists.
 */

export const DEFAULT_HOLD_TTL_MS = 30_000;
/** A caller cannot ask for more: a forgotten hold must not stall replication for long. */
export const MAX_HOLD_TTL_MS = 300_000;

export interface HoldRequest {
  holdId: string;
  until?: BinlogPosition;
  ttlMs?: number;
}

/** What the loop tells `decide` about where it stands. */
export interface LoopState {
  /** End of the last event the loop took from the reader (the reader's start before the first). */
  taken: BinlogPosition;
  /** At or after `taken`: the stream position up to which everything was taken or carries nothing to apply (an idle
   * reader's position past skipped events, relay progress records). */
  streamed: BinlogPosition;
  /** The highest writer checkpoint. */
  writersMax: BinlogPosition;
  /** Something keeps the downstream from reflecting the stream position (shard tables held by a DDL lock). */
  barrier: boolean;
  /** End of the next event, when the loop has one in hand. */
  nextEnd: BinlogPosition | undefined;
}

/** `go`: handle the event (or the idle step) as usual; `keep`: keep the event in hand and wait; `stop`: flush every
 * writer, then call `reached(stop)` (the event in hand is kept). */
export type Decision = 'go' | 'keep' | { stop: BinlogPosition };

interface Waiter {
  resolve(p: BinlogPosition): void;
  reject(e: Error): void;
}

interface Hold {
  id: string;
  until: BinlogPosition | undefined;
  ttlMs: number;
  waiters: Waiter[];
  /** Where the loop stands for this hold; undefined while it moves toward `until`. */
  at: BinlogPosition | undefined;
  /** The last position it stood at (the release's answer). */
  last: BinlogPosition | undefined;
  /** The loop's `taken` when it stopped: the hold may stand anywhere from here to `at`. */
  taken: BinlogPosition;
  since: number;
  expires: number;
  /** Time stood still before `since`. */
  heldMs: number;
}

export class SyncHold {
  private cur: Hold | undefined;
  private wakeUp: (() => void) | undefined;
  private closed: Error | undefined;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** A hold is requested or reached. */
  get active(): boolean {
    return this.cur !== undefined;
  }

  /** The loop stands still: it takes no event and runs no shard step. */
  get stationary(): boolean {
    return this.cur?.at !== undefined;
  }

  /**
   * The caller's side: resolves with H once the hold is reached. The same holdId again renews the TTL (same or no
   * `until` while held) or moves the hold forward to a later `until`; an earlier `until` than where it stands is
   * refused (SyncHoldPassed) and the hold stays.
   */
  request(r: HoldRequest): Promise<BinlogPosition> {
    if (this.closed) return Promise.reject(this.closed);
    const ttlMs = Math.min(r.ttlMs ?? DEFAULT_HOLD_TTL_MS, MAX_HOLD_TTL_MS);
    let c = this.cur;
    if (c && c.id !== r.holdId) return Promise.reject(conflict(c.id, r.holdId));
    if (c) {
      c.ttlMs = ttlMs;
      if (c.at) {
        if (!r.until || comparePos(r.until, c.at) === 0) {
          c.expires = this.now() + ttlMs;
          return Promise.resolve(c.at);
        }
        if (comparePos(r.until, c.at) < 0) {
          // Standing at H, the downstream also reflects exactly `until` when nothing was taken after it (what lies
          // between carries nothing to apply): stand there instead.
          if (comparePos(r.until, c.taken) < 0) return Promise.reject(passed(r.until, c.taken));
          c.at = r.until;
          c.last = r.until;
          c.until = r.until;
          c.expires = this.now() + ttlMs;
          return Promise.resolve(r.until);
        }
        c.heldMs += this.now() - c.since;
        c.at = undefined;
      }
      // A request that changes the target answers for the new target only: earlier waiters asked for another point.
      for (const w of c.waiters.splice(0))
        w.reject(new DmError('SyncHoldAborted', `hold ${c.id} was moved by a newer request before it was reached`));
      c.until = r.until;
    } else {
      c = {
        id: r.holdId,
        until: r.until,
        ttlMs,
        waiters: [],
        at: undefined,
        last: undefined,
        taken: { name: '', pos: 0 },
        since: 0,
        expires: 0,
        heldMs: 0,
      };
      this.cur = c;
    }
    const hold = c;
    const p = new Promise<BinlogPosition>((resolve, reject) => hold.waiters.push({ resolve, reject }));
    this.wake();
    return p;
  }

  /** Ends the hold (idempotent: nothing held answers `{}`); another holdId's hold is refused. */
  release(holdId: string): { position?: BinlogPosition; heldMs?: number } {
    const c = this.cur;
    if (!c) return {};
    if (c.id !== holdId) throw conflict(c.id, holdId);
    const heldMs = c.heldMs + (c.at ? this.now() - c.since : 0);
    this.end(c, new DmError('SyncHoldAborted', `hold ${c.id} was released before it was reached`));
    this.log.info({ holdId, position: c.last ? posKey(c.last) : undefined, heldMs }, 'sync hold released');
    return c.last ? { position: c.last, heldMs } : { heldMs };
  }

  /** The loop's side: what to do with the event in hand (or the idle step). */
  decide(s: LoopState): Decision {
    const c = this.cur;
    if (!c) return 'go';
    if (c.at) {
      if (this.now() < c.expires) return 'keep';
      this.log.warn(
        { holdId: c.id, position: posKey(c.at), ttlMs: c.ttlMs },
        'sync hold expired (its caller neither renewed nor released it): sync resumes',
      );
      this.end(c, new DmError('SyncHoldAborted', `hold ${c.id} expired`));
      return 'go';
    }
    const until = c.until;
    // Passed: an event ending after `until` was taken, or a writer committed past it where the stream has not been
    // read again yet (right after a restart). A writer past `until` only by an idle checkpoint (within `streamed`)
    // covers nothing but events with nothing to apply: not passed.
    if (
      until &&
      (comparePos(s.taken, until) > 0 ||
        (comparePos(s.writersMax, until) > 0 && comparePos(s.writersMax, s.streamed) > 0))
    ) {
      this.end(c, passed(until, comparePos(s.taken, until) > 0 ? s.taken : s.writersMax));
      return 'go';
    }
    const beyond = until !== undefined && s.nextEnd !== undefined && comparePos(s.nextEnd, until) > 0;
    if (s.barrier || comparePos(s.streamed, s.writersMax) < 0) return beyond ? 'keep' : 'go';
    if (!until) return { stop: s.streamed };
    if (beyond || comparePos(s.streamed, until) >= 0) return { stop: until };
    return 'go';
  }

  /** The loop flushed every writer after `decide` said `stop` (`taken`: the state's, as given to decide): the hold
   * stands at `pos`. */
  reached(pos: BinlogPosition, taken: BinlogPosition): void {
    const c = this.cur;
    if (!c) return;
    const now = this.now();
    c.at = pos;
    c.taken = taken;
    c.last = pos;
    c.since = now;
    c.expires = now + c.ttlMs;
    this.log.info({ holdId: c.id, position: formatPos(pos), ttlMs: c.ttlMs }, 'sync held');
    for (const w of c.waiters.splice(0)) w.resolve(pos);
  }

  /** Waits up to `ms`, or until a request or release changes the hold. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(t);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }

  /** The unit stops (pause, stop, error): a hold ends with it, and later requests are refused with `reason`. */
  close(reason: Error): void {
    this.closed = reason;
    if (this.cur) this.end(this.cur, reason);
  }

  private end(c: Hold, reason: Error): void {
    for (const w of c.waiters.splice(0)) w.reject(reason);
    if (this.cur === c) this.cur = undefined;
    this.wake();
  }

  private wake(): void {
    this.wakeUp?.();
  }
}

function conflict(held: string, asked: string): DmError {
  return new DmError('SyncHoldConflict', `sync is held by ${held}; ${asked} cannot hold or release it`);
}

function passed(until: BinlogPosition, at: BinlogPosition): DmError {
  return new DmError(
    'SyncHoldPassed',
    `sync cannot hold at ${posKey(until)}: it has already applied up to ${posKey(at)}`,
    { context: { position: posKey(until) } },
  );
}
