import type { Connection } from 'mysql2/promise';
import { type BinlogPosition, comparePos } from '../src/binlog/position.ts';
import type { SourceConfig } from '../src/config/types.ts';
import { masterStatus } from './db/binlog-status.ts';
import { connect } from './db/mysql.ts';

const LOOK_EVERY_MS = 2_000;

/**
 * While a subtask's sync unit does not run (paused, an error, a retry's backoff), its lag must still say whether the
 * downstream falls behind (src/metrics/lag.ts): every LOOK_EVERY_MS this asks the upstream for its head (SHOW MASTER
 * STATUS, on one connection held while the watch runs) and tells whether it is still the synced position. Runs only
 * when the metrics are served; a failed look is retried at the next one (the lag then keeps growing, as it should
 * when nothing is known).
 */
export class UpstreamWatch {
  private timer: NodeJS.Timeout | undefined;
  private conn: Connection | undefined;
  private busy = false;

  constructor(
    private readonly o: {
      source: SourceConfig;
      synced(): BinlogPosition | undefined;
      idle(idle: boolean): void;
    },
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.look(), LOOK_EVERY_MS);
    this.timer.unref();
    void this.look();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.conn?.destroy();
    this.conn = undefined;
  }

  private async look(): Promise<void> {
    const synced = this.o.synced();
    if (this.busy || !synced) return;
    this.busy = true;
    try {
      if (!this.conn) {
        const c = await connect(this.o.source.from, 'upstream');
        if (!this.timer) return c.destroy(); // stopped meanwhile
        this.conn = c;
      }
      const head = await masterStatus(this.conn);
      if (head && this.timer) this.o.idle(comparePos(head, synced) <= 0);
    } catch {
      this.conn?.destroy();
      this.conn = undefined;
    } finally {
      this.busy = false;
    }
  }
}
