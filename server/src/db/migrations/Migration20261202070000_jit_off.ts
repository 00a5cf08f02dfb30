import { Migration } from '@mikro-orm/migrations';

/**
 * No JIT compilation for Orders' sessions: `jit = off` for its role in its database, the default of
 * every session it opens from now on (through PgBouncer too, whose server connections log in as that
 * role). The embedded PostgreSQL is built without JIT, so neither the tests nor the bench ever met
 * it; Debian's and most managed PostgreSQL servers compile any statement the planner costs above
 * jit_above_cost (100,000), before running it. Measured on Debian's PostgreSQL 15 at 1,000,000
 * orders: the dashboard took 1.5–2.6 s per call with JIT and 42–532 ms without (today … 90 days),
 * the reconciliation summary 1.5–2.1 s against 38 ms, its list 1.7–1.9 s against 108 ms; the search
 * and an order's page the same either way (their statements stay below the threshold), and the CSV
 * export of every order, the one long statement, 7.0 s without against 7.7 s with. A role that
 * may not change its own defaults gets a warning here and one at every start (server.ts), not a
 * failed upgrade.
 */
export class Migration20261202070000_jit_off extends Migration {

  override name = 'Migration20261202070000_jit_off';

  override up(): void | Promise<void> {
    this.addSql(`do \$\$ begin
      execute format('alter role %I in database %I set jit = off', current_user, current_database());
    exception when insufficient_privilege then
      raise warning 'Orders could not set jit = off for role % in database %: %', current_user, current_database(), sqlerrm;
    end \$\$;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`do \$\$ begin
      execute format('alter role %I in database %I reset jit', current_user, current_database());
    end \$\$;`);
  }

}
