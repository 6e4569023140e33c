import type { DashboardState } from './read-model.ts';

/** What every list view gets: the snapshot, the filter, the selected row and the space it may use. */
export interface ListViewProps {
  model: DashboardState;
  filter: string;
  selected: number;
  width: number;
  height: number;
}
