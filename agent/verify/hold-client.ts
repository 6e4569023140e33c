import type { BinlogPosition } from '../../src/binlog/position.ts';
import {
  Bucket,
  type BoundRecord,
  type Coord,
  Keys,
  Op,
  type OpReply,
  Subjects,
  type SyncHoldRequest,
  type SyncHoldResult,
} from '../../src/coord/index.ts';
import { DmError, RemoteDmError } from '../../src/errors/index.ts';
import type { HoldClient } from './consistent-point.ts';

export interface NatsHoldOptions {
  /** The hold's TTL on the agent (default there: 30 s). */
  ttlMs?: number;
  /** How long a `hold` without `until` may take (the batch in flight commits). Default 30 s. */
  holdNowTimeoutMs?: number;
  /** How long a `hold` at `until` may take: sync applies everything up to `until` first (a task lagging behind the
   * snapshot catches up meanwhile). Default 5 min. */
  holdTimeoutMs?: number;
  /** How long a `release` may take. Default 5 s. */
  releaseTimeoutMs?: number;
}

/**
 * A HoldClient over the agent op `sync-hold` (src/coord/ops.ts), sent to the agent dm_bounds names for the source at
 * each call (a source rebound in between is then asked where it runs now; its new subtask holds nothing yet, which
 * the caller's confirmation step detects). `heldMs` collects, per source, how long sync stood still under this hold
 * (from the release replies).
 */
export class NatsHoldClient implements HoldClient {
  readonly heldMs = new Map<string, number>();

  constructor(
    private readonly coord: Coord,
    private readonly task: string,
    private readonly holdId: string,
    private readonly o: NatsHoldOptions = {},
  ) {}

  async hold(source: string, until?: BinlogPosition): Promise<BinlogPosition> {
    const timeout = until ? (this.o.holdTimeoutMs ?? 300_000) : (this.o.holdNowTimeoutMs ?? 30_000);
    const r = await this.call(source, 'hold', until, timeout);
    if (!r.position) throw new DmError('Internal', `sync-hold of ${this.task}/${source} answered without a position`);
    return r.position;
  }

  async release(source: string): Promise<void> {
    const r = await this.call(source, 'release', undefined, this.o.releaseTimeoutMs ?? 5_000);
    if (r.heldMs !== undefined) this.heldMs.set(source, r.heldMs);
  }

  private async call(
    source: string,
    action: SyncHoldRequest['action'],
    until: BinlogPosition | undefined,
    timeoutMs: number,
  ): Promise<SyncHoldResult> {
    const bound = await this.coord.get<BoundRecord>(Bucket.bounds, Keys.bound(source));
    if (!bound) throw new DmError('NoAgent', `source ${source} is not bound to an agent`, { context: { source } });
    const subject = Subjects.agentOp(this.coord.cluster, bound.value.agent, Op.syncHold);
    const req: SyncHoldRequest = {
      task: this.task,
      source,
      action,
      holdId: this.holdId,
      ...(until ? { until } : {}),
      ...(this.o.ttlMs ? { ttlMs: this.o.ttlMs } : {}),
    };
    let reply: OpReply<SyncHoldResult>;
    try {
      reply = await this.coord.request<OpReply<SyncHoldResult>>(subject, req, timeoutMs);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === '503')
        throw new DmError('NoAgent', `agent ${bound.value.agent} (bound to ${source}) does not answer`, {
          cause: err,
          context: { source },
        });
      throw new DmError(
        'Timeout',
        `no answer to sync-hold ${action} of ${this.task}/${source} within ${timeoutMs} ms`,
        {
          cause: err,
          context: { source },
        },
      );
    }
    if (!reply.ok)
      throw reply.error
        ? new RemoteDmError(reply.error)
        : new DmError('Internal', `sync-hold ${action} of ${this.task}/${source} failed without an error record`);
    return reply.result ?? {};
  }
}

export function natsHoldClient(coord: Coord, task: string, holdId: string, o: NatsHoldOptions = {}): NatsHoldClient {
  return new NatsHoldClient(coord, task, holdId, o);
}
