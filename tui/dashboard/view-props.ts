import type { SortSpec } from './DataTable.tsx';
import type { DashboardState } from './read-model.ts';

/** What every list view gets: the snapshot, the filter, the sort, the selected row and the space it may use. */
export interface ListViewProps {
  model: DashboardState;
  filter: string;
  sort?: SortSpec | undefined;
  selected: number;
  width: number;
  height: number;
}
