import { Migration } from '@mikro-orm/migrations';

/**
 * The values' trigram index (search-values.ts) without GIN's pending list. With it (PostgreSQL's
 * default, 4 MB), each new value's trigrams wait in an unsorted list that every fragment search reads
 * whole, until an insert finds the list full and merges all of it into the index in one go. The bench
 * never saw it (its seed builds the index after loading); a running shop does. Measured at 1,000,000
 * orders, 4,000 orders' worth of new values (five each: ids, PayPal ids, an email), one transaction
 * each: with the list near full (~494 pages), "amelia rob" took 7.4–9.1 ms against 1.4–2.1 with none,
 * a PayPal id's fragment 10–13 against 4–5.5, "mug-04" 3.5–4.6 against 0.4–0.7, and the insert that
 * merged the list stalled 120–316 ms. Without the list every value goes into the index as it is
 * written: the same searches whatever was written since, no insert over 13–16 ms, for ~0.5 ms more
 * per order's values (6.0–7.0 s → 8.6–9.0 s for the 4,000). Smaller lists (64–256 kB) cost as much
 * and still stalled 55–187 ms. The list is emptied here: switching it off leaves what waits in it.
 */
export class Migration20261202060000_search_values_no_pending extends Migration {

  override name = 'Migration20261202060000_search_values_no_pending';

  override up(): void | Promise<void> {
    this.addSql(`alter index "order_search_value_trgm_idx" set (fastupdate = off);`);
    this.addSql(`select gin_clean_pending_list('order_search_value_trgm_idx');`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter index "order_search_value_trgm_idx" reset (fastupdate);`);
  }

}
