import { Migration } from '@mikro-orm/migrations';

export class Migration20261130084334_money_out_index extends Migration {

  override name = 'Migration20261130084334_money_out_index';

  override up(): void | Promise<void> {
    this.addSql(`create index "money_movement_out_idx" on "money_movement" ("sale_id") where kind <> 'capture' and state = 'applied';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "money_movement_out_idx";`);
  }

}
