import { useCallback, useEffect, useState } from 'react';

/** The orders table's data columns (the selection checkbox is not one: it is always there). */
export const ORDER_COLUMNS = [
  // In display order (the table's column definitions follow it). `min`: the narrowest the column
  // reads well (px); `track`: its CSS grid track; `priority`: 0 is kept longest when the window is
  // too narrow for every chosen column.
  { id: 'number', label: 'Order', min: 80, track: 'minmax(80px, 0.6fr)', priority: 0, required: true },
  { id: 'status', label: 'Status', min: 152, track: 'minmax(152px, 0.8fr)', priority: 1 },
  // 126 px: a name or id is cut with its whole in the title; what the total's 142 px took from an 800 px window.
  { id: 'customer', label: 'Customer', min: 126, track: 'minmax(126px, 1.2fr)', priority: 4 },
  // The widest total, "CHF 9,999,999.99" (PayPal's largest amount), is 140 px: at 110 a narrow window
  // showed it as "F 9,999,999.99".
  { id: 'total', label: 'Total', min: 142, track: 'minmax(142px, 0.8fr)', priority: 2 },
  { id: 'paypal', label: 'PayPal', min: 170, track: 'minmax(170px, 1.3fr)', priority: 5 },
  { id: 'payerEmail', label: 'Payer', min: 150, track: 'minmax(150px, 1.1fr)', priority: 6 },
  { id: 'createdAt', label: 'Created', min: 120, track: '120px', priority: 3 },
] as const satisfies readonly { id: string; label: string; min: number; track: string; priority: number; required?: boolean }[];

export type OrderColumnId = (typeof ORDER_COLUMNS)[number]['id'];
export const SELECT_COLUMN = { width: 28 };
/** Row padding (16 px each side) and the gap between columns, as in styles.css. */
export const ROW_PADDING = 32;
export const COLUMN_GAP = 12;

const STORAGE_KEY = 'orders.table.hiddenColumns.v1';
/** Every column shows by default; the window's width decides what it can fit. */
const DEFAULT_HIDDEN: OrderColumnId[] = [];

function isColumnId(value: unknown): value is OrderColumnId {
  return ORDER_COLUMNS.some((column) => column.id === value && !('required' in column && column.required));
}

export function readHiddenColumns(storage: Storage | undefined = globalThis.localStorage): OrderColumnId[] {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(STORAGE_KEY) ?? 'null');
    return Array.isArray(parsed) ? parsed.filter(isColumnId) : DEFAULT_HIDDEN;
  } catch {
    return DEFAULT_HIDDEN;
  }
}

/** The columns the user turned off, kept in localStorage (per machine, like a window size). */
export function useHiddenColumns(): [OrderColumnId[], (id: OrderColumnId, shown: boolean) => void, () => void] {
  const [hidden, setHidden] = useState<OrderColumnId[]>(() => readHiddenColumns());
  useEffect(() => {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(hidden));
    } catch {
      // Storage full or disabled: the choice lasts until the window closes.
    }
  }, [hidden]);
  const toggle = useCallback((id: OrderColumnId, shown: boolean) => {
    setHidden((current) => (shown ? current.filter((c) => c !== id) : current.includes(id) ? current : [...current, id]));
  }, []);
  const reset = useCallback(() => setHidden(DEFAULT_HIDDEN), []);
  return [hidden, toggle, reset];
}

/**
 * Which of the chosen columns fit in `width` px without a sideways scrollbar: the least important
 * ones drop out first. The order number always stays.
 */
export function columnsThatFit(chosen: readonly OrderColumnId[], width: number): OrderColumnId[] {
  const byPriority = ORDER_COLUMNS.filter((c) => chosen.includes(c.id)).sort((a, b) => a.priority - b.priority);
  const needed = (columns: readonly { min: number }[]) =>
    ROW_PADDING + SELECT_COLUMN.width + columns.reduce((sum, c) => sum + c.min + COLUMN_GAP, 0);
  while (byPriority.length > 1 && needed(byPriority) > width) byPriority.pop();
  return ORDER_COLUMNS.filter((c) => byPriority.some((kept) => kept.id === c.id)).map((c) => c.id);
}

export function gridTemplate(columns: readonly OrderColumnId[]): string {
  return [`${SELECT_COLUMN.width}px`, ...ORDER_COLUMNS.filter((c) => columns.includes(c.id)).map((c) => c.track)].join(' ');
}
