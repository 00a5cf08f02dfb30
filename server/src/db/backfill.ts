/**
 * A procedure `name` that fills a big table without a long lock (a migration's backfill): it walks the
 * orders' ids in order, `batch` at a time, each batch in a transaction of its own that first locks the
 * batch's orders (FOR NO KEY UPDATE, as their writers do: a status change or an attempt written
 * meanwhile either waits for the batch or was committed before its read) and then runs `fill`, which
 * reads the batch's ids as `last` < id <= `upto`. Call it, then drop it.
 */
export function orderBatchesProcedure(name: string, batch: number, fill: string): string {
  return `create or replace procedure ${name}() language plpgsql as $$
declare
  last uuid := '00000000-0000-0000-0000-000000000000';
  upto uuid;
begin
  loop
    select b.id into upto from (select o.id from "order" o where o.id > last order by o.id limit ${batch}) b order by b.id desc limit 1;
    exit when upto is null;
    perform 1 from "order" o where o.id > last and o.id <= upto for no key update;
    ${fill};
    last := upto;
    commit;
  end loop;
end $$`;
}
