/**
 * Replication lag as the metrics report it (dm_syncer_replication_lag_gauge, tsdm_sync_apply_lag_seconds,
 * tsdm_sync_read_lag_seconds), and the remaining-time estimate (dm_syncer_remaining_time).
 *
 * The lag is `now - t`, where t is the upstream time up to which the downstream holds every change:
 *  - a committed batch sets t to the upstream time of its last event;
 *  - while the subtask is caught up (nothing unread, synced = the upstream head), t is now: lag 0;
 *  - while it is not running (paused, an error, stopped by a retry) nothing is applied: t stays where it was, except
 *    that while the upstream head is seen not to have moved past the synced position (an idle upstream), the
 *    downstream is still complete, so t follows the clock. The first look that finds the head beyond the synced
 *    position stops t: from then the lag grows with the clock, as the data downstream falls behind.
 * Times are in seconds; upstream event times and the local clock are compared as DM does (same-clock assumption).
 */
export class LagClock {
  /** Upstream time (s) up to which the downstream is complete; 0 = nothing known yet. */
  private applied = 0;
  /** Upstream time (s) of the last event the sync unit read. */
  private read = 0;
  private caughtUp = false;
  /** Previous sample for the remaining-time estimate. */
  private sample: { at: number; lag: number } | undefined;
  private remaining = 0;

  /** A batch whose last event has upstream time `ts` (s) is committed. */
  committed(ts: number): void {
    if (ts > this.applied) this.applied = ts;
  }

  /** The sync unit read an event with upstream time `ts` (s). */
  readTo(ts: number): void {
    if (ts > this.read) this.read = ts;
  }

  /**
   * The sync unit's own view (its progress report, about twice a second while it runs), or, while it does not run,
   * whether the upstream head is still at the synced position (`caughtUp`), as a look at the upstream said.
   */
  state(caughtUp: boolean, nowMs: number): void {
    this.caughtUp = caughtUp;
    if (caughtUp) this.applied = this.read = Math.max(this.applied, nowMs / 1000);
  }

  /** Nothing runs any more (pause, error, stop): nothing is caught up until a look at the upstream says so. */
  stopped(): void {
    this.caughtUp = false;
  }

  applyLag(nowMs: number): number {
    if (this.caughtUp || this.applied === 0) return 0;
    return Math.max(0, nowMs / 1000 - this.applied);
  }

  readLag(nowMs: number): number {
    if (this.caughtUp || this.applied === 0) return 0;
    return Math.max(0, nowMs / 1000 - Math.max(this.read, this.applied));
  }

  /**
   * Seconds until the lag reaches 0 at the pace it has shrunk over the last ≥ 10 s: 0 when there is no lag, -1 while
   * it does not shrink. Called at scrape time; the estimate changes only once per window.
   */
  remainingSeconds(nowMs: number): number {
    const lag = this.applyLag(nowMs);
    if (lag === 0) {
      this.sample = { at: nowMs, lag: 0 };
      this.remaining = 0;
      return 0;
    }
    if (!this.sample) {
      this.sample = { at: nowMs, lag };
      this.remaining = -1;
      return -1;
    }
    const dt = (nowMs - this.sample.at) / 1000;
    if (dt >= 10) {
      const shrink = (this.sample.lag - lag) / dt;
      this.remaining = shrink > 0 ? Math.round(lag / shrink) : -1;
      this.sample = { at: nowMs, lag };
    }
    return this.remaining;
  }
}

/** DM's binlog file index: the number after the last dot of the file name (`mysql-bin.000042` -> 42), else 0. */
export function binlogFileIndex(file: string): number {
  const m = /\.(\d+)$/.exec(file);
  return m ? Number(m[1]) : 0;
}
