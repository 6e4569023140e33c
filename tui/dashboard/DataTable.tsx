import React from 'react';
import { Box, Text } from 'ink';
import { Table } from '@alcalzone/ink-table';
import { fitColumns, type ColumnSpec } from './fit-columns.ts';
import { fit, oneLine, width } from './format.ts';

/**
 * The dashboard's only table, and the only file that knows about @alcalzone/ink-table (the ESM fork of ink-table:
 * ink-table 3.1.0 is CommonJS and cannot load under Ink 6, DESIGN.md §8). Replacing the table library means
 * replacing this file.
 *
 * What it adds: cells are cut to the terminal's width (fitColumns: shrink, then drop low-priority columns), rows are
 * paged to the available height, the selected row carries a `>` marker (meaning never rests on colour alone), and
 * there is no rule between data rows, so a 24-line terminal shows 15 rows instead of 7.
 */

export interface Column<R> extends ColumnSpec {
  value(row: R): string;
  /** What the column sorts by when its text does not order right (durations, rates, ages); else the text. */
  sort?(row: R): number | string;
}

/** Sorting of a list view: a column index, descending or not (`<` `>` pick the column, `S` reverses). */
export interface SortSpec {
  column: number;
  desc: boolean;
}

export interface DataTableProps<R> {
  columns: Column<R>[];
  rows: R[];
  /** Columns of the terminal the table may use. */
  width: number;
  /** Lines the table may use, borders and heading included. */
  height: number;
  /** Index in `rows` of the selected row, -1 for none. */
  selected: number;
  /** The sort column gets an arrow in its heading (the rows come sorted). */
  sort?: SortSpec | undefined;
}

type Row = Record<string, string>;

const MARK = '> ';
const NO_MARK = '  ';

/** ink-table with no rule between data rows (the heading and outer borders stay). */
class CompactTable extends Table<Row> {
  override separator = (): React.JSX.Element => <></>;
}

function Heading(props: React.PropsWithChildren): React.JSX.Element {
  return <Text bold>{props.children}</Text>;
}

function Skeleton(props: React.PropsWithChildren): React.JSX.Element {
  return <Text>{props.children}</Text>;
}

/** Words carry the meaning; colour only repeats it. */
function tone(text: string): { color?: string; bold?: boolean; inverse?: boolean } {
  if (text.startsWith(MARK)) return { bold: true, inverse: true };
  const t = text.trim();
  if (/^\[/.test(t) || /^(gone|left|Paused \(error\)|error)\b/.test(t)) return { color: 'red' };
  if (/^(Paused|late|Stopped|warn)\b/.test(t)) return { color: 'yellow' };
  if (/^(Running|alive|Finished)\b/.test(t)) return { color: 'green' };
  return {};
}

function Cell(props: React.PropsWithChildren<{ column: number }>): React.JSX.Element {
  const text = typeof props.children === 'string' ? props.children : '';
  return <Text {...tone(text.slice(1))}>{props.children}</Text>;
}

/** Which slice of the rows is on screen: whole pages, so a row never moves while the selection stays on its page. */
export function pageOf(selected: number, total: number, perPage: number): { start: number; end: number } {
  if (total === 0) return { start: 0, end: 0 };
  const start = Math.floor(Math.max(0, selected) / perPage) * perPage;
  return { start, end: Math.min(total, start + perPage) };
}

export function rowsPerPage(height: number): number {
  return Math.max(1, height - 3);
}

export function sortMark(s: SortSpec): string {
  return s.desc ? '↓' : '↑';
}

export function DataTable<R>({
  columns: given,
  rows,
  width: total,
  height,
  selected,
  sort,
}: DataTableProps<R>): React.JSX.Element {
  const columns = sort
    ? given.map((c, i) => (i === sort.column ? { ...c, header: `${c.header}${sortMark(sort)}` } : c))
    : given;
  const cells = rows.map((r) => columns.map((c) => oneLine(c.value(r))));
  // The first column also holds the selection marker.
  const natural = columns.map(
    (c, i) => Math.max(width(c.header), ...cells.map((row) => width(row[i]!))) + (i === 0 ? MARK.length : 0),
  );
  const specs = columns.map((c, i) => (i === 0 ? { ...c, min: c.min + MARK.length } : c));
  const { visible, widths } = fitColumns(specs, natural, total);
  const headers: string[] = [];
  for (const [k, i] of visible.entries()) {
    let h = fit(columns[i]!.header, widths[k]!).trimEnd();
    while (headers.includes(h)) h += ' '; // ink-table keys columns by heading
    headers.push(h);
  }
  const { start, end } = pageOf(selected, rows.length, rowsPerPage(height));
  const data: Row[] = [];
  for (let r = start; r < end; r++) {
    const row: Row = {};
    visible.forEach((i, k) => {
      const w = widths[k]!;
      const text = cells[r]![i]!;
      row[headers[k]!] =
        k === 0 ? (r === selected ? MARK : NO_MARK) + fit(text, w - MARK.length) : fit(text, w, columns[i]!.align);
    });
    data.push(row);
  }
  return (
    <Box flexDirection="column">
      <CompactTable data={data} columns={headers} padding={1} header={Heading} cell={Cell} skeleton={Skeleton} />
    </Box>
  );
}
