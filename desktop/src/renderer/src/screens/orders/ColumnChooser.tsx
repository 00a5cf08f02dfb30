import { Dropdown } from '../../components/Dropdown';
import { ORDER_COLUMNS, type OrderColumnId } from './columns';

export interface ColumnChooserProps {
  hidden: readonly OrderColumnId[];
  /** The chosen columns the window is too narrow for (they come back when it widens). */
  squeezed: readonly OrderColumnId[];
  onToggle(id: OrderColumnId, shown: boolean): void;
  onReset(): void;
}

/** Which columns the orders table shows; the order number is always there. */
export function ColumnChooser({ hidden, squeezed, onToggle, onReset }: ColumnChooserProps) {
  const count = ORDER_COLUMNS.length - hidden.length;
  return (
    <Dropdown label={<>Columns<span className="count">{count}</span></>}>
      <fieldset className="checklist column-chooser">
        <legend className="sr-only">Columns shown</legend>
        {ORDER_COLUMNS.map((column) => {
          const required = 'required' in column && column.required;
          return (
            <label key={column.id} className="check">
              <input type="checkbox" checked={!hidden.includes(column.id)} disabled={required} onChange={(event) => onToggle(column.id, event.target.checked)} />
              {column.label}
              {squeezed.includes(column.id) ? <span className="muted small"> (no room at this width)</span> : null}
            </label>
          );
        })}
        <button type="button" className="link-button" onClick={onReset}>
          Show all
        </button>
      </fieldset>
    </Dropdown>
  );
}
