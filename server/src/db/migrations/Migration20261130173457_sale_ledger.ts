import { Migration } from '@mikro-orm/migrations';

export class Migration20261130173457_sale_ledger extends Migration {

  override name = 'Migration20261130173457_sale_ledger';

  override up(): void | Promise<void> {
    // Writers wait while the trigger is created and the table filled from the movements already there
    // (SHARE: reads go on), so no movement is counted twice or missed.
    this.addSql(`lock table "money_movement" in share mode;`);
    this.addSql(`create table "sale_ledger" ("sale_id" varchar(64) not null, "captured" bigint not null default '0', "refunded" bigint not null default '0', "reversed" bigint not null default '0', "canceled" bigint not null default '0', primary key ("sale_id"));`);
    this.addSql(`create index "sale_ledger_cancel_waiting_idx" on "sale_ledger" ("sale_id") where canceled > reversed;`);
    this.addSql(`create index "sale_ledger_over_returned_idx" on "sale_ledger" ("sale_id") where captured > 0 and refunded + greatest(0, reversed - canceled) > captured;`);

    this.addSql(`create or replace function "money_movement_money_movement_sale_ledger_fn"() returns trigger as \$\$ begin if tg_op = 'UPDATE' and old.state = new.state and old.sale_id = new.sale_id and old.kind = new.kind and old.amount = new.amount then return null; end if;     if tg_op <> 'INSERT' and old.state = 'applied' then insert into sale_ledger as l (sale_id, captured, refunded, reversed, canceled)
      values (old.sale_id,
              case when old.kind = 'capture' then -old.amount else 0 end,
              case when old.kind = 'refund' then -old.amount else 0 end,
              case when old.kind = 'reversal' then -old.amount else 0 end,
              case when old.kind = 'reversal_canceled' then -old.amount else 0 end)
      on conflict (sale_id) do update set captured = l.captured + excluded.captured, refunded = l.refunded + excluded.refunded,
                                          reversed = l.reversed + excluded.reversed, canceled = l.canceled + excluded.canceled; end if;     if tg_op <> 'DELETE' and new.state = 'applied' then insert into sale_ledger as l (sale_id, captured, refunded, reversed, canceled)
      values (new.sale_id,
              case when new.kind = 'capture' then +new.amount else 0 end,
              case when new.kind = 'refund' then +new.amount else 0 end,
              case when new.kind = 'reversal' then +new.amount else 0 end,
              case when new.kind = 'reversal_canceled' then +new.amount else 0 end)
      on conflict (sale_id) do update set captured = l.captured + excluded.captured, refunded = l.refunded + excluded.refunded,
                                          reversed = l.reversed + excluded.reversed, canceled = l.canceled + excluded.canceled; end if; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "money_movement_sale_ledger" after insert or update or delete on "money_movement" for each row execute function "money_movement_money_movement_sale_ledger_fn"();`);
    this.addSql(`insert into "sale_ledger" (sale_id, captured, refunded, reversed, canceled)
      select sale_id, coalesce(sum(amount) filter (where kind = 'capture'), 0), coalesce(sum(amount) filter (where kind = 'refund'), 0),
             coalesce(sum(amount) filter (where kind = 'reversal'), 0), coalesce(sum(amount) filter (where kind = 'reversal_canceled'), 0)
        from money_movement where state = 'applied' group by sale_id;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "money_movement_sale_ledger" on "money_movement";`);
    this.addSql(`drop function if exists "money_movement_money_movement_sale_ledger_fn"();`);
    this.addSql(`drop table if exists "sale_ledger" cascade;`);

  }

}
