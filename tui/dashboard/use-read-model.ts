import { useSyncExternalStore } from 'react';
import type { DashboardState } from './read-model.ts';

/** Anything that publishes read-model snapshots: the live ReadModelStore, or a fixed state in tests. */
export interface ReadModelSource {
  subscribe(listener: () => void): () => void;
  getSnapshot(): DashboardState;
}

/** The current snapshot; re-renders only when the store publishes (at most every ~250 ms, see ReadModelStore). */
export function useReadModel(source: ReadModelSource): DashboardState {
  return useSyncExternalStore(source.subscribe, source.getSnapshot);
}

/** A source that never changes (component tests, recorded states). */
export function fixedSource(state: DashboardState): ReadModelSource {
  return { subscribe: () => () => undefined, getSnapshot: () => state };
}
