/**
 * The statements Orders' services issue, copied text for text (server/src/modules/**), so the
 * baseline's database work is the same and only the layers around it differ.
 */

export const AUTHENTICATE = `
  select 'service' as kind, k.id, k.scopes, null as "staffId", null as email, null as role
    from api_key k where k.key_hash = $1 and not k.disabled
  union all
  select 'staff', s.id, null, u.id, u.email, u.role
    from staff_session s join staff_user u on u.id = s.staff_id
   where s.token_hash = $1 and s.revoked_at is null and s.expires_at > now() and not u.disabled
  limit 1`;

const CART_COLUMNS = `id, customer_type as "customerType", customer_id as "customerId", checked_out_at as "checkedOutAt",
  created_at as "createdAt", updated_at as "updatedAt"`;

export const CART_INSERT = `
  insert into cart (id, created_at, updated_at, customer_type, customer_id)
  values ($1, now(), now(), $2, $3)
  returning ${CART_COLUMNS}`;

/** One-call checkout (orders.create with items): the cart without returning it, then its lines straight from the items (carts.service createCartWithItems). */
export const CART_INSERT_BARE = `insert into cart (id, created_at, updated_at, customer_type, customer_id) values ($1, now(), now(), $2, $3)`;

export const CART_LINES_FROM_ITEMS = `
  insert into cart_line (id, created_at, updated_at, cart_id, sku, quantity)
  select gen_random_uuid(), now(), now(), $1, i.sku, i.quantity
    from unnest($2::text[], $3::int[]) as i(sku, quantity)
    join product p on p.sku = i.sku
  returning sku`;

export const CART_LOCK = `
  select ${CART_COLUMNS}
    from cart where id = $1 and customer_type = $2 and customer_id = $3
     for update`;

export const PRODUCT_FOR_LINE = `
  select p.currency, p.stock, p.unit_price as "unitPrice",
         (select p2.currency from cart_line l join product p2 on p2.sku = l.sku
           where l.cart_id = $1 and l.sku <> $2 and p2.currency <> p.currency limit 1) as "otherCurrency"
    from product p where p.sku = $2`;

export const CART_LINE_UPSERT = `
  insert into cart_line (id, created_at, updated_at, cart_id, sku, quantity)
  values ($1, now(), now(), $2, $3, $4)
  on conflict (cart_id, sku) do update set quantity = excluded.quantity, updated_at = now()`;

export const CART_LINE_DELETE = `delete from cart_line where cart_id = $1 and sku = $2`;

export const CART_TOUCH = `update cart set updated_at = now() where id = $1 returning updated_at as "updatedAt"`;

export const LOAD_LINES = `
  select l.sku, coalesce(l.quoted_name, p.name) as name, l.quantity,
         coalesce(l.quoted_unit_price, p.unit_price) as "unitPrice",
         (coalesce(l.quoted_unit_price, p.unit_price)::bigint * l.quantity)::float8 as "lineTotal", p.currency
    from cart_line l join product p on p.sku = l.sku
   where l.cart_id = $1
   order by l.sku`;

export const QUOTE_LINES = `
  update cart_line l set quoted_unit_price = p.unit_price, quoted_name = p.name, updated_at = now()
    from product p where p.sku = l.sku and l.cart_id = $1
  returning 1 as lines, p.currency, (p.unit_price::bigint * l.quantity)::text as total`;

export const RESERVE_LOCK = `
  select p.sku, l.quantity, p.stock from cart_line l join product p on p.sku = l.sku
   where l.cart_id = $1 order by p.sku for update of p`;

export const RESERVE_TAKE = `
  update product p set stock = p.stock - l.quantity, updated_at = now()
    from cart_line l where l.cart_id = $1 and p.sku = l.sku`;

export const CART_CHECKOUT = `update cart set checked_out_at = now(), updated_at = now() where id = $1`;

export const ORDER_COLUMNS = `o.id, o.customer_type as "customerType", o.customer_id as "customerId", o.cart_id as "cartId",
  o.status, o.total, o.currency, o.refunded_amount as "refundedAmount", o.payment_status as "paymentStatus",
  o.payment_transaction_id as "paymentTransactionId", o.stock_reserved as "stockReserved",
  o.created_at as "createdAt", o.updated_at as "updatedAt", o.paid_at as "paidAt"`;

export const ORDER_INSERT = `
  insert into "order" as o (id, created_at, updated_at, customer_type, customer_id, cart_id, status, total, currency,
                       refunded_amount, stock_reserved)
  values ($1, clock_timestamp(), clock_timestamp(), $2, $3, $4, 'pending', $5, $6, 0, true)
  returning ${ORDER_COLUMNS}`;

export const AUDIT_INSERT = `
  insert into audit_entry (id, created_at, updated_at, actor_type, actor_id, action, order_id, before, after, reason)
  values ($1, now(), now(), $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8)`;

export const ORDER_LOCK_OWNED = `select ${ORDER_COLUMNS} from "order" o
  where o.id = $1 and o.customer_type = $2 and o.customer_id = $3 for no key update`;

export const ORDER_FIND = `select ${ORDER_COLUMNS} from "order" o where o.id = $1`;
export const ORDER_FIND_LOCK = `select ${ORDER_COLUMNS} from "order" o where o.id = $1 for no key update`;

export const ATTEMPT_COLUMNS = `a.id, a.order_id as "orderId", a.status, a.amount, a.currency, a.external_id as "externalId",
  a.sale_id as "saleId", a.sale_state as "saleState", a.approval_url as "approvalUrl", a.return_url as "returnUrl",
  a.cancel_url as "cancelUrl", a.payer_id as "payerId", a.created_at as "createdAt"`;

export const ATTEMPTS_SUPERSEDE = `
  update order_payment_attempt set status = 'cancelled', failure_reason = 'superseded by a newer attempt', updated_at = now()
   where order_id = $1 and status in ('created', 'approved')`;

export const ATTEMPT_INSERT = `
  insert into order_payment_attempt as a (id, created_at, updated_at, order_id, provider, status, amount, currency, return_url, cancel_url)
  values ($1, now(), now(), $2, 'paypal', 'created', $3, $4, $5, $6)
  returning ${ATTEMPT_COLUMNS}`;

export const ATTEMPT_CREATED = `
  update order_payment_attempt set external_id = $1, approval_url = $2,
    raw_create = $3::jsonb, updated_at = now() where id = $4`;

/** `processed_at` is left null for a message stored before it is acted on (an IPN in the inbox). */
function eventInsert(processedAt: string): string {
  return `
  insert into payment_event (id, created_at, updated_at, source, attempt_id, order_id, external_id, txn_id,
    parent_txn_id, provider_status, amount, currency, raw_body, payload, verification, processing, outcome, flag_kind, processed_at)
  values ($1, clock_timestamp(), clock_timestamp(), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15, null,
    ${processedAt})
  returning id`;
}
export const EVENT_INSERT_PROCESSED = eventInsert('clock_timestamp()');
export const EVENT_INSERT_RECEIVED = eventInsert('null');

export const IPN_EVENT_LOAD = `select raw_body as "rawBody", processing, verification from payment_event where id = $1 and source = 'ipn'`;
export const IPN_EVENT_LOCK = `select processing from payment_event where id = $1 for update`;
export const IPN_DEDUP = `select id from payment_event where dedup_key = $1`;
export const ATTEMPT_BY_SALE = `select ${ATTEMPT_COLUMNS} from order_payment_attempt a where a.sale_id = $1`;
export const ATTEMPT_BY_ID = `select ${ATTEMPT_COLUMNS} from order_payment_attempt a where a.id = $1`;
export const ORDER_LOCK_BY_ATTEMPT = `select ${ORDER_COLUMNS} from "order" o
  where o.id = (select order_id from order_payment_attempt where id = $1) for no key update`;
export const ATTEMPT_LOCK = `select ${ATTEMPT_COLUMNS} from order_payment_attempt a where a.id = $1 for no key update`;
export const SALE_OWNER_AND_OTHER_SUCCESS = `select
  (select id from order_payment_attempt where sale_id = $1 and id <> $2) as "saleOwner",
  (select id from order_payment_attempt where order_id = $3 and status = 'succeeded' and id <> $2) as "otherSuccess"`;

export const ATTEMPT_SET = `
  update order_payment_attempt a set
    status = coalesce($1, a.status),
    sale_id = coalesce($2, a.sale_id),
    sale_state = coalesce($3, a.sale_state),
    failure_reason = coalesce($4, a.failure_reason),
    payer_id = coalesce($5, a.payer_id),
    payer_email = coalesce($6, a.payer_email),
    succeeded_at = case when $1::text = 'succeeded' then now() else a.succeeded_at end,
    updated_at = now()
  where a.id = $7
  returning ${ATTEMPT_COLUMNS}`;

export const ORDER_TO_PAID = `
  update "order" o set status = 'paid', paid_at = now(), updated_at = now(),
         payment_transaction_id = coalesce($1, o.payment_transaction_id),
         payment_status = $2
    from (select id, status from "order" where id = $3 for no key update) previous
   where o.id = previous.id
     and previous.status in ('pending', 'failed')
  returning ${ORDER_COLUMNS}, previous.status as "previousStatus"`;

export const SNAPSHOT_LINES = `
  insert into order_line (id, created_at, updated_at, order_id, sku, name, unit_price, quantity, line_total, currency)
  select gen_random_uuid(), now(), now(), $1, l.sku, l.quoted_name, l.quoted_unit_price, l.quantity,
         l.quoted_unit_price * l.quantity, $2
    from cart_line l where l.cart_id = $3
  returning line_total as total`;

export const IPN_FINISH = `
  update payment_event set verification = $1, processing = $2,
        outcome = $3, flag_kind = null, attempt_id = coalesce($4, attempt_id), order_id = coalesce($5, order_id),
        dedup_key = $6, amount = coalesce($7, amount),
        attempts = attempts + 1, processed_at = clock_timestamp(), updated_at = now()
      where id = $8 and processing = 'received'`;

/** The baseline's queue: a plain job table instead of pg-boss (see README). */
export const JOB_TABLE = `
  create table if not exists bench_ipn_job (
    id bigserial primary key,
    event_id uuid not null,
    locked_until timestamptz not null default '-infinity'
  )`;
export const JOB_ENQUEUE = `insert into bench_ipn_job (event_id) values ($1)`;
/** Claims one job for two minutes; a worker that dies leaves it to be claimed again. */
export const JOB_CLAIM = `
  update bench_ipn_job set locked_until = now() + interval '2 minutes'
   where id = (select id from bench_ipn_job where locked_until < now() order by id limit 1 for update skip locked)
  returning id, event_id as "eventId"`;
export const JOB_DONE = `delete from bench_ipn_job where id = $1`;
