/** An entity's row trigger, created with its plpgsql function `<table>_<name>_fn` (MikroORM's `triggers` entry). */
export type TriggerEvent = 'insert' | 'update' | 'delete';

export function rowTrigger(
  table: string,
  name: string,
  events: TriggerEvent[],
  when: string | null,
  body: string,
): { name: string; timing: 'after'; events: TriggerEvent[]; expression: string } {
  const fn = `${table}_${name}_fn`;
  return {
    name,
    timing: 'after',
    events,
    expression: `create or replace function "${fn}"() returns trigger as $$ begin ${body} return null; end; $$ language plpgsql;
create trigger "${name}" after ${events.join(' or ')} on "${table}" for each row${when ? ` when (${when})` : ''} execute function "${fn}"();`,
  };
}
