/**
 * The statements Orders' services issue, so the baseline's database work is the same and only the
 * layers around it differ. The intake and payment statements (carts.create, carts.setItem,
 * orders.create in both forms, payments.attemptToPay, the IPN listener's insert) are Orders' own
 * compiled text — captured from the Kysely `sql` templates in server/src/modules/** as of the
 * one-statement (data-modifying CTE) intake — with the parameters numbered and bound in the same order
 * (Kysely gives every interpolation its own `$n`, so a value used twice is bound twice).
 */

/** StaffService.authenticate: once per HTTP request; `$2` is API_KEY_LAST_USED_EVERY ('1 minute'). */
export const AUTHENTICATE = `
        select 'service' as kind, k.id, k.name, k.scopes, null as "staffId", null as email, null as role,
               (k.last_used_at is null or k.last_used_at < now() - $1::interval) as "usedLongAgo"
          from api_key k where k.key_hash = $2 and not k.disabled
        union all
        select 'staff', s.id, null, null, u.id, u.email, u.role, null
          from staff_session s join staff_user u on u.id = s.staff_id
         where s.token_hash = $3 and s.revoked_at is null and s.expires_at > now() and not u.disabled
        limit 1`;
export const API_KEY_LAST_USED_EVERY = '1 minute';
/** StaffService.touchApiKey: "last used", at most once a minute per key (the lookup says when it is due). */
export const API_KEY_TOUCH = `update api_key set last_used_at = now()
           where id = $1 and (last_used_at is null or last_used_at < now() - $2::interval)`;

/** carts.create. Parameters: id, customer type, customer id. */
export const CART_INSERT = `
        insert into cart (id, created_at, updated_at, customer_type, customer_id)
        values ($1, now(), now(), $2, $3)
        returning id, customer_type as "customerType", customer_id as "customerId", checked_out_at as "checkedOutAt",
                  created_at as "createdAt", updated_at as "updatedAt"`;

/**
 * carts.setItem in one statement (CartsService.setItem). Parameters, in order: cartId, customer type,
 * customer id, cartId, sku, sku, quantity, MAX_AMOUNTS, quantity, quantity, cartId, sku, quantity,
 * new line id, cartId, sku, quantity, quantity, cartId, quantity, sku, quantity.
 */
export const CART_SET_ITEM = `
          with cart_now as materialized (
            select c.id, c.customer_type, c.customer_id, c.checked_out_at, c.created_at, c.xmin::text as version from cart c
             where c.id = $1 and c.customer_type = $2 and c.customer_id = $3 for update),
          moved as materialized (
            select coalesce((select version from cart_now) <> (select c.xmin::text from cart c where c.id = $4), false) as moved),
          chosen as materialized (select p.sku, p.name, p.currency, p.stock, p.unit_price from product p where p.sku = $5),
          others as materialized (
            select l.sku, coalesce(l.quoted_name, p.name) as name, l.quantity, coalesce(l.quoted_unit_price, p.unit_price) as unit_price, p.currency
              from cart_line l join product p on p.sku = l.sku
             where l.cart_id = (select id from cart_now) and l.sku <> $6),
          verdict as materialized (
            select c.id is not null as found, c.checked_out_at is not null as "checkedOut", m.moved,
                   pr.sku is not null as "productFound", pr.currency, pr.stock, pr.unit_price as "unitPrice",
                   (select o.currency from others o where o.currency <> pr.currency limit 1) as "otherCurrency",
                   $7::bigint * pr.unit_price > ($8::jsonb ->> pr.currency)::bigint as "tooLarge"
              from moved m left join cart_now c on true left join chosen pr on true),
          ok as materialized (
            select from verdict v
             where v.found and not v."checkedOut" and not v.moved
               and ($9::int = 0 or (v."productFound" and v."otherCurrency" is null and $10::int <= v.stock and not v."tooLarge"))),
          removed as (
            delete from cart_line where cart_id = $11 and sku = $12 and $13::int = 0 and exists (select from ok)),
          upserted as (
            insert into cart_line (id, created_at, updated_at, cart_id, sku, quantity)
            select $14, now(), now(), $15, $16, $17 from ok where $18::int > 0
            on conflict (cart_id, sku) do update set quantity = excluded.quantity, updated_at = now()),
          touched as (update cart set updated_at = now() where id = $19 and exists (select from ok) returning updated_at)
          select v.*, c.customer_type as "customerType", c.customer_id as "customerId", c.checked_out_at as "checkedOutAt",
                 c.created_at as "createdAt", (select updated_at from touched) as "updatedAt",
                 (select json_agg(json_build_object('sku', l.sku, 'name', l.name, 'quantity', l.quantity, 'unitPrice', l.unit_price,
                                  'lineTotal', l.unit_price::bigint * l.quantity, 'currency', l.currency) order by l.sku)
                    from (select * from others
                          union all
                          select p.sku, p.name, $20::int, p.unit_price, p.currency from product p where p.sku = $21 and $22::int > 0) l) as lines
            from verdict v left join cart_now c on true`;

/** Orders' ORDER_COLUMNS (order.repository.ts): every statement here that answers an order. */
export const ORDER_COLUMNS = `o.id, o.number, o.customer_type as "customerType", o.customer_id as "customerId",
  o.customer_email as "customerEmail", o.customer_name as "customerName", o.cart_id as "cartId",
  o.status, o.total, o.currency, o.refunded_amount as "refundedAmount", o.payment_status as "paymentStatus",
  o.payment_transaction_id as "paymentTransactionId", o.stock_reserved as "stockReserved",
  o.created_at as "createdAt", o.updated_at as "updatedAt", o.paid_at as "paidAt"`;

/*
 * Both orders.create statements (order-intake.sql.ts composes them the same way): their own way of
 * finding the lines and making the checked-out cart, around one verdict (`max` is MAX_AMOUNTS' `$n`)
 * and one tail that reserves stock, inserts the order and its audit entry (`first` is the order
 * id's `$n`; eight parameters follow it).
 */
const verdict = (max: number) => `
        verdict as materialized (
          select count(*)::int as line_count, count(distinct currency)::int as currencies, min(currency) as currency,
                 coalesce(sum(unit_price::bigint * quantity), 0)::text as quoted_total,
                 array_agg(sku order by sku) filter (where stock < quantity) as short,
                 json_agg(json_build_object('sku', sku, 'name', name, 'quantity', quantity, 'unitPrice', unit_price,
                          'lineTotal', unit_price::bigint * quantity, 'currency', currency) order by sku) as lines
            from lines),
        ok as materialized (
          select v.currency, v.quoted_total::bigint as total from verdict v, cart_state s
           where s.found and not s.checked_out and not s.moved and s.unknown_item is null
             and v.line_count > 0 and v.currencies = 1 and v.short is null
             and v.quoted_total::bigint <= ($${max}::jsonb ->> v.currency)::bigint),`;

const orderTail = (first: number) => {
  const $ = (offset: number) => `$${first + offset}`;
  return `
        reserved as (
          update product p set stock = p.stock - w.quantity, updated_at = now()
            from lines w where p.sku = w.sku and exists (select from ok)),
        created as (
          insert into "order" as o (id, created_at, updated_at, customer_type, customer_id, customer_email, customer_name, cart_id,
                                    status, total, currency, refunded_amount, stock_reserved)
          select ${$(0)}, clock_timestamp(), clock_timestamp(), ${$(1)}, ${$(2)}, ${$(3)},
                 ${$(4)}, ${$(5)}, 'pending', ok.total, ok.currency, 0, true
            from ok
          returning ${ORDER_COLUMNS}),
        audited as (
          insert into audit_entry (id, created_at, updated_at, actor_type, actor_id, action, order_id, before, after, reason)
          select ${$(6)}, now(), now(), ${$(7)}, ${$(8)}, 'order.created', created.id, null,
                 jsonb_build_object('status', 'pending', 'total', created.total, 'currency', created.currency), null
            from created)
        select s.found, s.checked_out as "checkedOut", s.moved, s.unknown_item as "unknownItem",
               v.line_count as "lineCount", v.currencies, v.currency as "quotedCurrency", v.quoted_total as "quotedTotal", v.short, v.lines, created.*
          from cart_state s cross join verdict v left join created on true`;
};

/**
 * orders.create({ cartId }) in one statement (createPendingOrder). Parameters: cartId, customer type,
 * customer id, cartId, MAX_AMOUNTS, cartId, order id, customer type, customer id, customer email,
 * customer name, cartId, audit id, actor type, actor id.
 */
export const ORDER_FROM_CART = `
        with
    cart_now as materialized (
      select c.id, c.checked_out_at, c.xmin::text as version from cart c
       where c.id = $1 and c.customer_type = $2 and c.customer_id = $3 for update),
    cart_state as materialized (
      select exists (select from cart_now) as found,
             coalesce((select checked_out_at is not null from cart_now), false) as checked_out,
             coalesce((select version from cart_now) <> (select c.xmin::text from cart c where c.id = $4), false) as moved,
             null::int as unknown_item),
    lines as materialized (
      select l.id as line_id, p.sku, l.quantity, p.unit_price, p.name, p.currency, p.stock
        from cart_line l join product p on p.sku = l.sku
       where l.cart_id = (select id from cart_now)
       order by p.sku for update of p),${verdict(5)}
    quoted as (
      update cart_line l set quoted_unit_price = w.unit_price, quoted_name = w.name, updated_at = now()
        from lines w where l.id = w.line_id and exists (select from ok)),
    checked_out as (
      update cart set checked_out_at = now(), updated_at = now() where id = $6 and exists (select from ok)),${orderTail(7)}`;

/**
 * orders.create({ customer, items }) in one statement. Parameters: skus (text[]), quantities (int[]),
 * MAX_AMOUNTS, cartId, customer type, customer id, cartId, order id, customer type, customer id,
 * customer email, customer name, cartId, audit id, actor type, actor id.
 */
export const ORDER_FROM_ITEMS = `
        with
    wanted as (
      select i.sku, i.quantity, i.position::int - 1 as position
        from unnest($1::text[], $2::int[]) with ordinality as i(sku, quantity, position)),
    cart_state as materialized (
      select true as found, false as checked_out, false as moved,
             (select min(w.position) from wanted w where not exists (select from product p where p.sku = w.sku)) as unknown_item),
    lines as materialized (
      select p.sku, w.quantity, p.unit_price, p.name, p.currency, p.stock
        from wanted w join product p on p.sku = w.sku
       order by p.sku for update of p),${verdict(3)}
    cart_made as (
      insert into cart (id, created_at, updated_at, customer_type, customer_id, checked_out_at)
      select $4, now(), now(), $5, $6, now() from ok),
    lines_made as (
      insert into cart_line (id, created_at, updated_at, cart_id, sku, quantity, quoted_unit_price, quoted_name)
      select gen_random_uuid(), now(), now(), $7, w.sku, w.quantity, w.unit_price, w.name
        from lines w where exists (select from ok)),${orderTail(8)}`;

/** attemptToPay: the customer's own order, locked. Parameters: orderId, customer type, customer id. */
export const ORDER_LOCK_OWNED = `select ${ORDER_COLUMNS} from "order" o
        where o.id = $1 and o.customer_type = $2 and o.customer_id = $3 for no key update`;

/**
 * attemptToPay: a payment being executed right now, and any whose execution was never answered (Orders
 * asks PayPal about those first; the benchmark's orders have none)? Parameters: orderId, 'created',
 * 'approved', executeClaimMs / 1000.
 */
export const EXECUTING_ATTEMPT = `select coalesce(bool_or(execute_started_at > now() - make_interval(secs => $4)), false) as executing,
               coalesce(array_agg(id::text) filter (where execute_started_at <= now() - make_interval(secs => $4)
                                                       and external_id is not null), '{}') as lost
          from order_payment_attempt
         where order_id = $1 and status in ($2, $3) and execute_started_at is not null`;

/**
 * attemptToPay: open attempts superseded, the new one inserted, the lines read, in one statement.
 * Parameters: reason, orderId, 'created', 'approved', attempt id, orderId, total, currency, returnUrl,
 * cancelUrl, cartId.
 */
export const ATTEMPT_CREATE = `
        with superseded as (update order_payment_attempt set status = 'cancelled', failure_reason = $1, updated_at = now()
              where order_id = $2 and status in ($3, $4)),
        created as (
          insert into order_payment_attempt as a (id, created_at, updated_at, order_id, provider, status, amount, currency, return_url, cancel_url)
          values ($5, now(), now(), $6, 'paypal', 'created', $7, $8,
                  $9, $10)
          returning a.id, a.order_id as "orderId", a.status, a.amount, a.currency, a.external_id as "externalId",
  a.sale_id as "saleId", a.sale_state as "saleState", a.approval_url as "approvalUrl", a.return_url as "returnUrl",
  a.cancel_url as "cancelUrl", a.payer_id as "payerId", a.created_at as "createdAt")
        select created.*, (
    select json_agg(json_build_object('sku', l.sku, 'name', coalesce(l.quoted_name, p.name), 'quantity', l.quantity,
             'unitPrice', coalesce(l.quoted_unit_price, p.unit_price),
             'lineTotal', coalesce(l.quoted_unit_price, p.unit_price)::bigint * l.quantity, 'currency', p.currency) order by l.sku)
      from cart_line l join product p on p.sku = l.sku
     where l.cart_id = $11) as lines from created`;

/**
 * attemptToPay after PayPal answered: the payment stored on the attempt and the event recorded, one
 * statement. Parameters: paymentId, approvalUrl, raw (json text), attempt id, then the 16 of
 * paymentEventInsert (event id, source, attemptId, orderId, externalId, txnId, parentTxnId,
 * providerStatus, amount, currency, rawBody, payload, verification, processing, outcome, flagKind).
 */
export const ATTEMPT_STORE_CREATED = `with stored as (
            update order_payment_attempt set external_id = $1, approval_url = $2,
                   raw_create = $3::jsonb, updated_at = now() where id = $4)
          
      insert into payment_event (id, created_at, updated_at, source, attempt_id, order_id, external_id, txn_id,
        parent_txn_id, provider_status, amount, currency, raw_body, payload, verification, processing, outcome, flag_kind, processed_at)
      values ($5, clock_timestamp(), clock_timestamp(), $6, $7, $8,
        $9, $10, $11, $12,
        $13, $14, $15,
        $16::jsonb,
        $17, $18, $19, $20,
        clock_timestamp())
      returning id`;

/**
 * The IPN listener's one insert (storeNotification → paymentEventInsert): `processed_at` is the
 * 17th parameter, bound as null for a `received` row, as Kysely binds it.
 */
export const EVENT_INSERT_RECEIVED = `
      insert into payment_event (id, created_at, updated_at, source, attempt_id, order_id, external_id, txn_id,
        parent_txn_id, provider_status, amount, currency, raw_body, payload, verification, processing, outcome, flag_kind, processed_at)
      values ($1, clock_timestamp(), clock_timestamp(), $2, $3, $4,
        $5, $6, $7, $8,
        $9, $10, $11,
        $12::jsonb,
        $13, $14, $15, $16,
        $17)
      returning id`;


export const AUDIT_INSERT = `
  insert into audit_entry (id, created_at, updated_at, actor_type, actor_id, action, order_id, before, after, reason)
  values ($1, now(), now(), $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8)`;

export const ORDER_FIND = `select ${ORDER_COLUMNS} from "order" o where o.id = $1`;
export const ORDER_FIND_LOCK = `select ${ORDER_COLUMNS} from "order" o where o.id = $1 for no key update`;

export const ATTEMPT_COLUMNS = `a.id, a.order_id as "orderId", a.status, a.amount, a.currency, a.external_id as "externalId",
  a.sale_id as "saleId", a.sale_state as "saleState", a.approval_url as "approvalUrl", a.return_url as "returnUrl",
  a.cancel_url as "cancelUrl", a.payer_id as "payerId", a.created_at as "createdAt"`;

/** pendingNotification. Parameters: event id, 'ipn'. */
export const IPN_EVENT_LOAD = `
      select raw_body as "rawBody", payload, processing from payment_event where id = $1 and source = $2`;
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
/** The listener's ids go out in batches, as Orders' do to pg-boss (one insert per 10 ms window, up to 500). */
export const JOB_ENQUEUE = `insert into bench_ipn_job (event_id) select unnest($1::uuid[])`;
/** Claims one job for two minutes; a worker that dies leaves it to be claimed again. */
export const JOB_CLAIM = `
  update bench_ipn_job set locked_until = now() + interval '2 minutes'
   where id = (select id from bench_ipn_job where locked_until < now() order by id limit 1 for update skip locked)
  returning id, event_id as "eventId"`;
export const JOB_DONE = `delete from bench_ipn_job where id = $1`;
