/** The dashboard's views in key order (1-6), a leaf module so that every other module can import it. */
export const VIEWS = ['topology', 'tasks', 'errors', 'locks', 'events', 'relays'] as const;
export type ViewName = (typeof VIEWS)[number];
export const VIEW_TITLES: Record<ViewName, string> = {
  topology: 'Topology',
  tasks: 'Tasks',
  errors: 'Errors',
  locks: 'Shard locks',
  events: 'Events',
  relays: 'Relays',
};
