import { followEvents, lastEventSeq, type Coord } from '../../src/coord/index.ts';
import { MAX_EVENTS, type ConnectionState } from './read-model.ts';
import type { ReadSource } from './read-model-store.ts';

/**
 * The read model's source in a live dmctl: Coord's bucket watches (they re-open after a NATS reconnect) and the
 * connection's status events, so the header can say when what is on screen may be stale.
 */
export function coordSource(coord: Coord): ReadSource {
  return {
    server: coord.nc.getServer(),
    watch: (bucket, cb, onInitialized) => coord.watch(bucket, cb, undefined, onInitialized),
    events(cb) {
      // The newest MAX_EVENTS, then new ones; a missing stream (no agent yet) is waited for by followEvents.
      let stop: (() => void) | undefined;
      let stopped = false;
      void lastEventSeq(coord.nc, coord.cluster)
        .catch(() => 0)
        .then((last) => {
          if (!stopped) stop = followEvents(coord.nc, coord.cluster, {}, Math.max(0, last - MAX_EVENTS), cb);
        });
      return () => {
        stopped = true;
        stop?.();
      };
    },
    onConnection(cb) {
      let stopped = false;
      cb(coord.nc.isClosed() ? 'closed' : 'connected');
      void (async () => {
        for await (const s of coord.nc.status()) {
          if (stopped) break;
          const next = toState(String(s.type));
          if (next) cb(next);
        }
      })().catch(() => undefined);
      void coord.nc.closed().then(() => {
        if (!stopped) cb('closed');
      });
      return () => {
        stopped = true;
      };
    },
  };
}

function toState(type: string): ConnectionState | undefined {
  switch (type) {
    case 'disconnect':
    case 'reconnecting':
    case 'staleConnection':
      return 'reconnecting';
    case 'reconnect':
      return 'connected';
    default:
      return undefined;
  }
}
