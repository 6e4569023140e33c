import { LEASE_TTL_MS } from '../src/coord/index.ts';
import type { Logger } from './log.ts';

/**
 * Self-fencing: an agent whose member key has not been renewed for this long stops every subtask (they stop
 * writing downstream), well before the key can expire (LEASE_TTL_MS after the last renewal) and the leader can
 * rebind its sources. It resumes when a renewal succeeds again and a fresh read of dm_bounds says it still owns them.
 */
export const FENCE_AFTER_MS = LEASE_TTL_MS / 2;

/**
 * Test hook: TSDM_FAULT_NO_SELF_FENCE=1 makes a zombie: no watchdog, and subtasks keep running after their binding
 * moved. It proves that the downstream term check alone keeps a stale agent from writing (fencing-scenario.ts).
 */
export const ZOMBIE = process.env.TSDM_FAULT_NO_SELF_FENCE === '1';

/** What the watchdog reads of the agent and asks of it. */
export interface SelfFenceHost {
  log(): Logger;
  /** When the member key was last renewed (ms since the epoch). */
  lastRenewed(): number;
  stopping(): boolean;
  /** Reads dm_bounds afresh: bindings may have moved while the agent was cut off. Throws when it cannot. */
  rereadBindings(): Promise<void>;
  /** Fencing began or ended: the reconciler stops or restarts the subtasks. */
  changed(): void;
}

/** The self-fencing watchdog (see FENCE_AFTER_MS): checks the member lease every 250 ms. */
export class SelfFence {
  /** True while the member lease is not known to be alive: no subtask runs, no status is published. */
  fenced = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly host: SelfFenceHost) {}

  start(): void {
    if (ZOMBIE) return;
    this.timer = setInterval(() => {
      void this.check();
    }, 250);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    const { host } = this;
    if (host.stopping()) return;
    const stale = Date.now() - host.lastRenewed() > FENCE_AFTER_MS;
    if (stale && !this.fenced) {
      this.fenced = true;
      host
        .log()
        .warn(
          { lastRenewed: new Date(host.lastRenewed()).toISOString() },
          'member lease not renewed: fencing, all subtasks stop writing',
        );
      host.changed();
    } else if (!stale && this.fenced) {
      // Bindings may have moved while we were cut off: read them afresh before running anything again.
      try {
        await host.rereadBindings();
      } catch (err) {
        host.log().warn({ err: String(err) }, 'cannot re-read bindings after fencing');
        return;
      }
      if (Date.now() - host.lastRenewed() > FENCE_AFTER_MS) return;
      this.fenced = false;
      host.log().info('member lease renewed: fencing lifted');
      host.changed();
    }
  }
}
