import { EventPublisher, ensureEventStream, setEvents, type Coord } from '../src/coord/index.ts';
import type { Logger } from './log.ts';

/**
 * Makes this agent publish events (dm_events, src/coord/event-stream.ts): creates the stream if it is missing, so
 * `dmctl events` finds it as soon as one agent ran, and makes `eventsOf(coord)` this publisher, which every part of the agent that has the
 * Coord emits through (each emission a one-line, non-blocking call). A stream that cannot be created now is a warning:
 * the publisher tries again with its first event; the data path never waits for events.
 */
export async function startEvents(coord: Coord, agent: string, log: Logger, replicas = 1): Promise<EventPublisher> {
  await ensureEventStream(coord.nc, coord.cluster, replicas).catch((err: unknown) =>
    log.warn({ err: String(err) }, 'cannot create the event stream yet; events are queued until it exists'),
  );
  const pub = new EventPublisher({
    nc: coord.nc,
    cluster: coord.cluster,
    replicas,
    agent,
    warn: (detail, msg) => log.warn(detail, msg),
  });
  setEvents(coord, pub);
  return pub;
}
