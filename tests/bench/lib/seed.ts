import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Customer } from '@orders/shared';
import { SEARCH_DOCUMENT } from '@orders/server/modules/backoffice/search-document.ts';
import { FILL_SEARCH_VALUES } from '@orders/server/modules/backoffice/search-values.ts';
import { NOTE_UNPAID_SALES } from '@orders/server/modules/reconciliation/unpaid-sales.ts';

export const CATALOG_SIZE = 1000;
export const skuOf = (n: number) => `BENCH-${String(n).padStart(4, '0')}`;

/** A thousand USD products with effectively unlimited stock, so intake never contends on one row. */
export async function seedCatalog(pool: pg.Pool): Promise<void> {
  await pool.query(
    `insert into product (id, created_at, updated_at, sku, name, unit_price, currency, stock)
     select uuidv7(), now(), now(), 'BENCH-' || lpad(i::text, 4, '0'), 'Bench product ' || i,
            500 + (i * 7919) % 19500, 'USD', 1000000000
       from generate_series(1, $1) i
     on conflict (sku) do nothing`,
    [CATALOG_SIZE],
  );
}

/**
 * `count` checked-out carts (one line each, prices quoted) with a pending order each, exactly what
 * carts.create + setItem + orders.create leave behind. With `attempts`, each order also gets an
 * approved PayPal attempt, as if the buyer had approved at PayPal: what an IPN then completes.
 */
export async function seedPendingOrders(
  pool: pg.Pool,
  options: { count: number; customerPrefix: string; attempts?: boolean },
): Promise<{ orderId: string; customer: Customer; attemptId: string | null; amount: number; currency: string }[]> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(
      `create temp table seed_orders on commit drop as
       select i, uuidv7() as cart_id, uuidv7() as order_id, uuidv7() as line_id, uuidv7() as attempt_id,
              $2::text || '-' || i as customer_id,
              'BENCH-' || lpad((1 + floor(random() * $3))::int::text, 4, '0') as sku,
              1 + floor(random() * 3)::int as quantity
         from generate_series(1, $1::int) i`,
      [options.count, options.customerPrefix, CATALOG_SIZE],
    );
    await client.query(
      `insert into cart (id, created_at, updated_at, customer_type, customer_id, checked_out_at)
       select cart_id, now(), now(), 'user', customer_id, now() from seed_orders`,
    );
    await client.query(
      `insert into cart_line (id, created_at, updated_at, cart_id, sku, quantity, quoted_unit_price, quoted_name)
       select s.line_id, now(), now(), s.cart_id, s.sku, s.quantity, p.unit_price, p.name
         from seed_orders s join product p on p.sku = s.sku`,
    );
    await client.query(
      `insert into "order" (id, created_at, updated_at, customer_type, customer_id, cart_id, status, total, currency, refunded_amount, stock_reserved)
       select s.order_id, clock_timestamp(), now(), 'user', s.customer_id, s.cart_id, 'pending', p.unit_price * s.quantity, p.currency, 0, true
         from seed_orders s join product p on p.sku = s.sku`,
    );
    if (options.attempts) {
      await client.query(
        `insert into order_payment_attempt (id, created_at, updated_at, order_id, provider, status, amount, currency, external_id, payer_id)
         select s.attempt_id, now(), now(), s.order_id, 'paypal', 'approved', p.unit_price * s.quantity, p.currency,
                'PAY-' || upper(substr(md5(s.attempt_id::text), 1, 24)), 'BENCHPAYER' || lpad((s.i % 1000)::text, 3, '0')
           from seed_orders s join product p on p.sku = s.sku`,
      );
    }
    const { rows } = await client.query<{ orderId: string; customerId: string; attemptId: string | null; amount: number; currency: string }>(
      `select s.order_id as "orderId", s.customer_id as "customerId", ${options.attempts ? 's.attempt_id' : 'null'} as "attemptId",
              p.unit_price * s.quantity as amount, p.currency
         from seed_orders s join product p on p.sku = s.sku order by s.i`,
    );
    await client.query('commit');
    return rows.map((r) => ({ orderId: r.orderId, customer: { type: 'user', id: r.customerId }, attemptId: r.attemptId, amount: r.amount, currency: r.currency }));
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const sqlArray = (values: string[]) => `array[${values.map((v) => `'${v}'`).join(', ')}]`;
/** 40 × 25 = 1,000 product names ("Walnut Mug", sku MUG-0412): a noun is in 4 % of orders, a product in 0.1 % or less. */
const ADJECTIVES = sqlArray(['Blue', 'Red', 'Green', 'Black', 'White', 'Grey', 'Navy', 'Olive', 'Coral', 'Mustard', 'Ceramic', 'Linen', 'Wool',
  'Cotton', 'Leather', 'Bamboo', 'Walnut', 'Oak', 'Copper', 'Brass', 'Vintage', 'Classic', 'Modern', 'Rustic', 'Minimal', 'Striped', 'Dotted',
  'Floral', 'Geometric', 'Organic', 'Large', 'Small', 'Travel', 'Deluxe', 'Mini', 'Recycled', 'Handmade', 'Everyday', 'Studio', 'Alpine']);
const NOUNS = sqlArray(['Mug', 'Tote', 'Notebook', 'Candle', 'Scarf', 'Beanie', 'Poster', 'Sticker', 'Hoodie', 'Tee', 'Cap', 'Socks', 'Bottle',
  'Lamp', 'Pillow', 'Blanket', 'Backpack', 'Wallet', 'Keychain', 'Coaster', 'Apron', 'Journal', 'Planter', 'Vase', 'Umbrella']);
/** Payers: 60 × 60 names, emails first.last + two digits at a handful of mail providers. */
const FIRST_NAMES = sqlArray(['Olivia', 'Liam', 'Emma', 'Noah', 'Amelia', 'Oliver', 'Sophia', 'Elijah', 'Charlotte', 'James', 'Mia', 'Lucas',
  'Harper', 'Mateo', 'Evelyn', 'Ethan', 'Aria', 'Leo', 'Chloe', 'Jack', 'Nora', 'Henry', 'Zoe', 'Samuel', 'Layla', 'Daniel', 'Ivy', 'Owen',
  'Hannah', 'Wyatt', 'Grace', 'Julian', 'Lucy', 'Isaac', 'Stella', 'Caleb', 'Ruby', 'Aiden', 'Hazel', 'Gabriel', 'Alice', 'Luca', 'Clara',
  'Felix', 'Maya', 'Hugo', 'Elena', 'Arjun', 'Priya', 'Kenji', 'Yuki', 'Omar', 'Fatima', 'Diego', 'Sofia', 'Lars', 'Ingrid', 'Marek',
  'Anna', 'Tomas']);
const LAST_NAMES = sqlArray(['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez',
  'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson', 'White', 'Harris',
  'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill',
  'Flores', 'Green', 'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts', 'Schmidt', 'Muller',
  'Rossi', 'Dubois', 'Kowalski', 'Novak', 'Tanaka', 'Sato', 'Kim', 'Patel']);
const MAIL_DOMAINS = sqlArray(['gmail.com', 'outlook.com', 'yahoo.com', 'icloud.com', 'proton.me', 'gmx.de', 'example.org']);
// Over bench_seed's columns `person` and `product`.
const FIRST = `(${FIRST_NAMES})[1 + person % 60]`;
const LAST = `(${LAST_NAMES})[1 + (person / 60) % 60]`;
const PAYER_NAME = `${FIRST} || ' ' || ${LAST}`;
const PAYER_EMAIL = `lower(${FIRST} || '.' || ${LAST}) || lpad(((person / 3600) % 100)::text, 2, '0') || '@' || (${MAIL_DOMAINS})[1 + (person / 360000) % 7]`;
const NOUN = `(${NOUNS})[1 + (product - 1) % 25]`;
const PRODUCT_NAME = `(${ADJECTIVES})[1 + (product - 1) / 25] || ' ' || ${NOUN}`;
const PRODUCT_SKU = `upper(left(${NOUN}, 3)) || '-' || lpad(product::text, 4, '0')`;

/**
 * Drops the tables' secondary (non-constraint) indexes before a bulk load and returns their
 * definitions (pg_get_indexdef), to be run again afterwards: the schema ends exactly as migrated.
 */
export async function dropSecondaryIndexes(client: pg.Pool | pg.PoolClient | pg.Client, tables: string[]): Promise<{ name: string; def: string }[]> {
  const { rows } = await client.query<{ name: string; def: string }>(
    `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
       from pg_index i join pg_class c on c.oid = i.indrelid
      where c.relname = any($1) and c.relnamespace = 'public'::regnamespace
        and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`,
    [tables],
  );
  for (const index of rows) await client.query(`drop index ${index.name}`);
  return rows;
}

/**
 * The back-office data set: `count` orders over the past year, set-based. Distributions:
 * volume grows over the year (density ∝ t^0.25); status paid 62 %, cancelled 10 %, pending 8 %,
 * failed 7 %, refunded 8 %, partially refunded 5 %; currency USD 55 %, EUR 20 %, GBP 10 %, then
 * CAD, AUD, JPY, CHF, SEK, PLN, MXN; totals log-normal around 45.00 (JPY in yen at ~150/USD);
 * 78 % of orders by 200,000 registered users with a heavy head (a few customers with hundreds of
 * orders), 22 % anonymous. Every order has its cart (FK); every paid, refunded or failed order
 * and most pending and cancelled ones have a PayPal attempt with PAY-… id, and the paid ones a
 * sale id and payer email. Ids are UUID v7 derived from created_at, as the server makes them.
 * Each order has one cart line of 1,000 products (popular ones more often), named as a shop would
 * ("Walnut Mug", MUG-0412), and each paid, refunded or partially refunded order its paid snapshot of
 * that line (order_line, in the order's currency). The products are not in the catalog (which is in
 * USD while the orders are in ten currencies), so an unpaid order's page, read from its cart, shows
 * no lines. A registered customer pays as one person every time (name and
 * first.last##@provider email from the customer id), a guest as someone new; paid orders carry
 * their payer. The back-office search document of each order is written from those rows.
 *
 * FK triggers are skipped for the load (session_replication_role = replica): the rows satisfy
 * them by construction, and that lets orders and attempts load in parallel on two connections. What
 * other triggers keep (the search documents, unpaid_sale) is written here.
 */
/** The tables the search seed writes, vacuumed and analysed after it. */
const SEEDED_TABLES = ['order', 'order_payment_attempt', 'cart', 'order_search', 'cart_line', 'order_search_posting', 'order_line', 'order_search_value'];

export async function seedSearchOrders(url: string, count: number, log: (line: string) => void): Promise<{ seconds: number; orders: number; attempts: number; analyzeSeconds: number }> {
  const connect = async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`set session_replication_role = replica; set synchronous_commit = off; set work_mem = '128MB'; set maintenance_work_mem = '256MB'`);
    return client;
  };
  const a = await connect();
  const b = await connect();
  const started = performance.now();
  try {
    await a.query(`drop table if exists bench_seed`);
    await a.query(`select setseed(0.42)`);
    await a.query(
      `create unlogged table bench_seed as
       with base as (
         select i,
                now() - interval '365 days' * (1 - power(i::float8 / $1, 0.8)) - interval '1 second' * (random() * 20) as ts,
                random() as r_status, random() as r_currency, random() as r_total1, random() as r_total2,
                random() as r_customer, random() as r_user, random() as r_attempt, random() as r_extra, random() as r_product
           from generate_series(1, $1::int) i
       ), shaped as (
         select *,
                case when r_status < 0.62 then 'paid' when r_status < 0.72 then 'cancelled' when r_status < 0.80 then 'pending'
                     when r_status < 0.87 then 'failed' when r_status < 0.95 then 'refunded' else 'partially_refunded' end as status,
                case when r_currency < 0.55 then 'USD' when r_currency < 0.75 then 'EUR' when r_currency < 0.85 then 'GBP'
                     when r_currency < 0.89 then 'CAD' when r_currency < 0.92 then 'AUD' when r_currency < 0.96 then 'JPY'
                     when r_currency < 0.975 then 'CHF' when r_currency < 0.985 then 'SEK' when r_currency < 0.993 then 'PLN'
                     else 'MXN' end as currency,
                -- Box-Muller: a standard normal from two uniforms; cents around 4500, ×/÷ e^0.9 for one sigma.
                least(5000000, greatest(100, round(exp(ln(4500) + 0.9 * sqrt(-2 * ln(greatest(r_total1, 1e-12))) * cos(2 * pi() * r_total2)))))::int as cents,
                r_customer < 0.78 as registered,
                md5(i::text) as h
           from base
       )
       select i, ts, status, currency,
              case when currency = 'JPY' then greatest(1, round(cents * 1.5))::int else cents end as total,
              case when registered then 'user' else 'anonymous' end as customer_type,
              case when registered then 'user-' || floor(200000 * power(r_user, 2.5))::int else 'anon-' || substr(h, 1, 16) end as customer_id,
              (lpad(to_hex((extract(epoch from ts) * 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid as order_id,
              (lpad(to_hex((extract(epoch from ts) * 1000)::bigint - 60000), 12, '0') || '7' || substr(h, 19, 3) || '9' || substr(md5(h), 1, 15))::uuid as cart_id,
              (lpad(to_hex((extract(epoch from ts) * 1000)::bigint + 1000), 12, '0') || '7' || substr(md5(h), 16, 3) || 'a' || substr(md5(h), 19, 14) || '0')::uuid as attempt_id,
              case when status in ('paid', 'refunded', 'partially_refunded') then upper(substr(md5(h || 's'), 1, 17)) end as sale_id,
              'PAY-' || upper(substr(md5(h || 'p'), 1, 24)) as external_id,
              case when status in ('paid', 'refunded', 'partially_refunded', 'failed') then true
                   when status = 'pending' then r_attempt < 0.6 else r_attempt < 0.5 end as has_attempt,
              r_extra,
              1 + floor(1000 * power(r_product, 1.6))::int as product,
              abs(hashtext(case when registered then 'user-' || floor(200000 * power(r_user, 2.5))::int else h end)) as person
         from shaped`,
      [count],
    );
    log(`staging table ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // Loading into indexes row by row costs more than the load itself; building them afterwards is a
    // sorted pass each. Secondary (non-constraint) indexes are dropped and recreated from their own
    // definitions (pg_get_indexdef), so the schema afterwards is exactly the migrated one.
    const secondary = await dropSecondaryIndexes(a, ['order', 'order_payment_attempt', 'cart', 'cart_line', 'order_search', 'order_search_value']);
    const orders = a.query(
      `insert into "order" (id, created_at, updated_at, customer_type, customer_id, customer_email, customer_name, payer_email, payer_name,
                            cart_id, status, payment_status, payment_transaction_id, total, currency, refunded_amount, stock_reserved, paid_at,
                            latest_attempt_external_id, latest_attempt_payer_email)
       select order_id, ts, ts + interval '1 minute' * (1 + r_extra * 60), customer_type, customer_id,
              case when customer_type = 'user' then ${PAYER_EMAIL} end, case when customer_type = 'user' then ${PAYER_NAME} end,
              case when sale_id is not null then ${PAYER_EMAIL} end, case when sale_id is not null then ${PAYER_NAME} end,
              cart_id, status,
              case status when 'paid' then 'completed' when 'refunded' then 'refunded' when 'partially_refunded' then 'refunded'
                          when 'failed' then 'failed' end,
              sale_id, total, currency,
              case status when 'refunded' then total when 'partially_refunded' then greatest(1, least(total - 1, floor(total * (0.1 + 0.6 * r_extra))))::int else 0 end,
              status in ('pending', 'paid', 'refunded', 'partially_refunded'),
              case when sale_id is not null then ts + interval '1 second' * (30 + r_extra * 600) end,
              -- Its one attempt's (below), as the attempts' trigger (off for the load) would have set them.
              case when has_attempt then external_id end,
              case when has_attempt and (status <> 'pending' or r_extra >= 0.5) then ${PAYER_EMAIL} end
         from bench_seed order by i`,
    );
    const cartsThenAttempts = (async () => {
      await b.query(
        `insert into cart (id, created_at, updated_at, customer_type, customer_id, checked_out_at)
         select cart_id, ts - interval '1 minute', ts, customer_type, customer_id, ts from bench_seed order by i`,
      );
      await b.query(
        `insert into cart_line (id, created_at, updated_at, cart_id, sku, quantity, quoted_unit_price, quoted_name)
         select gen_random_uuid(), ts - interval '1 minute', ts - interval '1 minute', cart_id, ${PRODUCT_SKU}, 1, total, ${PRODUCT_NAME}
           from bench_seed order by i`,
      );
      // The paid snapshot (order_line), written when an order is paid: what its page and a line refund read.
      await b.query(
        `insert into order_line (id, created_at, updated_at, order_id, sku, name, unit_price, quantity, line_total, currency)
         select gen_random_uuid(), ts + interval '1 second' * (30 + r_extra * 600), ts + interval '1 second' * (30 + r_extra * 600),
                order_id, ${PRODUCT_SKU}, ${PRODUCT_NAME}, total, 1, total, currency
           from bench_seed where sale_id is not null order by i`,
      );
      await b.query(
        `insert into order_payment_attempt (id, created_at, updated_at, order_id, provider, external_id, status, amount, currency,
                                            sale_id, sale_state, payer_id, payer_email, payer_name, succeeded_at)
         select attempt_id, ts + interval '1 second', ts + interval '1 second' * (30 + r_extra * 600), order_id, 'paypal', external_id,
                case status when 'failed' then 'failed' when 'cancelled' then 'cancelled'
                            -- what the payments sweep leaves of an attempt nobody finished within 3 hours
                            when 'pending' then case when ts < now() - interval '3 hours' then 'expired'
                                                     when r_extra < 0.5 then 'created' else 'approved' end
                            else 'succeeded' end,
                total, currency, sale_id,
                case status when 'paid' then 'completed' when 'refunded' then 'refunded' when 'partially_refunded' then 'partially_refunded'
                            when 'failed' then 'denied' end,
                case when status <> 'pending' or r_extra >= 0.5 then 'PAYER' || upper(substr(md5(customer_id), 1, 8)) end,
                case when status <> 'pending' or r_extra >= 0.5 then ${PAYER_EMAIL} end,
                case when status <> 'pending' or r_extra >= 0.5 then ${PAYER_NAME} end,
                case when sale_id is not null then ts + interval '1 second' * (30 + r_extra * 600) end
           from bench_seed where has_attempt order by i`,
      );
    })();
    await Promise.all([orders, cartsThenAttempts]);
    log(`rows loaded ${((performance.now() - started) / 1000).toFixed(1)} s; rebuilding ${secondary.length} indexes`);
    // The documents read the orders' attempts and lines through their indexes: written after those, before their own.
    const queue = secondary.filter((index) => !index.name.startsWith('order_search'));
    await Promise.all(
      [a, b].map(async (client) => {
        for (let index = queue.shift(); index; index = queue.shift()) await client.query(index.def);
      }),
    );
    await writeSearchDocuments(a, b);
    // The documents' values and their postings (search-values.ts), as the migration fills them.
    for (const statement of FILL_SEARCH_VALUES) await a.query(statement);
    for (const index of secondary.filter((index) => index.name.startsWith('order_search'))) await a.query(index.def);
    log(`search documents, their values and the values' trigram index ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const seconds = (performance.now() - started) / 1000;
    const attempts = Number((await a.query<{ n: string }>(`select count(*) as n from bench_seed where has_attempt`)).rows[0]!.n);
    await a.query(`drop table bench_seed`);
    // Triggers are off for the load: an unpaid order with a succeeded attempt (unpaid-sales.ts) is noted
    // here, as the migration notes the states already there.
    await a.query(NOTE_UNPAID_SALES);
    log(`seeded ${count.toLocaleString('en-US')} orders and ${attempts.toLocaleString('en-US')} attempts in ${seconds.toFixed(1)} s; vacuum analyze…`);
    const analyzeStarted = performance.now();
    // What autovacuum does after a bulk load (visibility map for index-only scans, fresh statistics), done now.
    await Promise.all([a.query(`vacuum (analyze) "order"`), b.query(`vacuum (analyze) order_payment_attempt`)]);
    await Promise.all([a.query(`vacuum (analyze) cart`), b.query(`vacuum (analyze) order_search`)]);
    await Promise.all([a.query(`vacuum (analyze) cart_line`), b.query(`vacuum (analyze) order_search_posting`)]);
    await a.query(`vacuum (analyze) order_line`);
    await a.query(`vacuum (analyze) order_search_value`);
    // A vacuum beside another's analyze left half of order_search_posting's pages out of the visibility
    // map (seen at 1M orders: 30,219 of 56,041), so half of every fragment's postings were fetched from
    // the heap; autovacuum would mark them later. Any table left short is vacuumed again, alone.
    for (let round = 0; round < 2; round++) {
      const short = await a.query<{ relname: string }>(
        `select relname from pg_class where relname = any($1) and relkind = 'r' and relallvisible < relpages * 0.99`,
        [SEEDED_TABLES],
      );
      if (short.rows.length === 0) break;
      log(`vacuuming again, alone (visibility map short): ${short.rows.map((r) => r.relname).join(', ')}`);
      for (const { relname } of short.rows) await a.query(`vacuum "${relname}"`);
    }
    const visible = await a.query<{ relname: string; share: number }>(
      `select relname, round(100.0 * relallvisible / greatest(relpages, 1), 1)::float8 as share from pg_class where relname = any($1) and relkind = 'r' order by 1`,
      [SEEDED_TABLES],
    );
    log(`visibility map (% of pages all-visible): ${visible.rows.map((r) => `${r.relname} ${r.share}`).join(', ')}`);
    // Flush the load's dirty pages now, not during the first measurements.
    await a.query(`checkpoint`);
    return { seconds, orders: count, attempts, analyzeSeconds: (performance.now() - analyzeStarted) / 1000 };
  } finally {
    await a.end();
    await b.end();
  }
}

/**
 * The back-office search document of every seeded order (the triggers that write it in Orders are
 * off during the load), with the server's own expression, in two halves on two connections.
 */
async function writeSearchDocuments(a: pg.Client, b: pg.Client): Promise<void> {
  const half = (client: pg.Client, remainder: number) =>
    client.query(
      `insert into order_search (order_id, document, created_at, status)
       select o.id, ${SEARCH_DOCUMENT}, o.created_at, o.status from bench_seed s join "order" o on o.id = s.order_id where s.i % 2 = $1 order by s.i`,
      [remainder],
    );
  await Promise.all([half(a, 0), half(b, 1)]);
}
