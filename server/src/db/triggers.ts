export type TriggerEvent = 'insert' | 'update' | 'delete';

/**
 * An entity's row trigger, created with its plpgsql function `<table>_<name>_fn` (MikroORM's `triggers`
 * entry). `updateOf` limits an update trigger to those columns; `atCommit` makes it a constraint trigger
 * deferred to the commit, when the transaction's rows are final.
 */
export function rowTrigger(
  table: string,
  name: string,
  events: TriggerEvent[],
  when: string | null,
  body: string,
  options: { updateOf?: readonly string[]; atCommit?: boolean } = {},
): { name: string; timing: 'after'; events: TriggerEvent[]; expression: string } {
  const fn = `${table}_${name}_fn`;
  const on = events.map((event) => (event === 'update' && options.updateOf ? `update of ${options.updateOf.join(', ')}` : event)).join(' or ');
  const kind = options.atCommit ? 'constraint trigger' : 'trigger';
  const deferred = options.atCommit ? ' deferrable initially deferred' : '';
  return {
    name,
    timing: 'after',
    events,
    expression: `create or replace function "${fn}"() returns trigger as $$ begin ${body} return null; end; $$ language plpgsql;
create ${kind} "${name}" after ${on} on "${table}"${deferred} for each row${when ? ` when (${when})` : ''} execute function "${fn}"();`,
  };
}
