import { Bucket, type Entry } from '../../src/coord/index.ts';
import type { DmEvent } from '../../src/events/record.ts';
import { initialState, reduce, type Action, type ConnectionState, type DashboardState } from './read-model.ts';

/**
 * The live side of the read model: watches feed the pure reducer (read-model.ts) and a new snapshot is published at
 * most every `throttleMs` (CONVENTIONS 9: never render once per update).
 */

export interface ReadSource {
  /**
   * Every current value of the bucket, then every update; `onInitialized` is called once, after the current values
   * (the watch's first pass), so the first frame can show a whole cluster instead of a half-read one.
   */
  watch<T>(bucket: Bucket, onChange: (e: Entry<T>) => void, onInitialized?: () => void): () => void;
  onConnection?(cb: (state: ConnectionState) => void): () => void;
  /** The newest MAX_EVENTS events of dm_events, then every new one, oldest first; returns a stop function. */
  events?(cb: (e: DmEvent) => void): () => void;
  server?: string;
}

/** Every bucket the dashboard shows. dm_locks is empty until shard-DDL locks exist. */
export const WATCHED: Bucket[] = [
  Bucket.members,
  Bucket.leader,
  Bucket.bounds,
  Bucket.tasks,
  Bucket.status,
  Bucket.locks,
  Bucket.checks,
];

export interface StoreOptions {
  throttleMs?: number;
  /** How often ages and liveness are re-evaluated without any update. */
  tickMs?: number;
  clock?: () => number;
}

export class ReadModelStore {
  private state: DashboardState;
  private published: DashboardState;
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastPublish = 0;
  private readonly throttleMs: number;
  private readonly tickMs: number;
  private readonly clock: () => number;
  private initialized = 0;
  private onReady: (() => void) | undefined;
  /** Resolves once every watched bucket has delivered its current values (see `connect`). */
  readonly ready: Promise<void>;

  constructor(cluster: string, opts: StoreOptions = {}, server = '') {
    this.throttleMs = opts.throttleMs ?? 250;
    this.tickMs = opts.tickMs ?? 500;
    this.clock = opts.clock ?? Date.now;
    this.state = initialState(cluster, server, this.clock());
    this.published = this.state;
    this.ready = new Promise<void>((res) => {
      this.onReady = res;
    });
  }

  getSnapshot = (): DashboardState => this.published;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  dispatch(a: Action): void {
    this.state = reduce(this.state, a);
    this.schedule();
  }

  /** Starts the watches and the tick; returns a function that stops them. */
  connect(src: ReadSource): () => void {
    const stops = WATCHED.map((b) => {
      let first = true;
      return src.watch<unknown>(
        b,
        (entry) => this.dispatch({ type: 'entry', bucket: b, entry, at: this.clock() }),
        () => {
          // A re-opened watch (after a reconnect) initializes again: count each bucket once.
          if (!first) return;
          first = false;
          if (++this.initialized === WATCHED.length) this.becomeReady();
        },
      );
    });
    if (src.onConnection)
      stops.push(
        src.onConnection((state) =>
          this.dispatch({ type: 'connection', state, server: src.server ?? '', at: this.clock() }),
        ),
      );
    else this.dispatch({ type: 'connection', state: 'connected', server: src.server ?? '', at: this.clock() });
    if (src.events) stops.push(src.events((event) => this.dispatch({ type: 'event', event, at: this.clock() })));
    const tick = setInterval(() => this.dispatch({ type: 'tick', at: this.clock() }), this.tickMs);
    return () => {
      clearInterval(tick);
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      for (const s of stops) s();
    };
  }

  /** The whole cluster is read: publish it at once rather than at the next throttle slot. */
  private becomeReady(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.publish();
    this.onReady?.();
    this.onReady = undefined;
  }

  private publish(): void {
    this.lastPublish = this.clock();
    this.published = this.state;
    for (const l of this.listeners) l();
  }

  /** Publishes now if the last publish is older than throttleMs, else once that much time has passed. */
  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastPublish + this.throttleMs - this.clock());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.publish();
    }, wait);
  }
}
