import type { MikroORM } from '@mikro-orm/postgresql';
import { firstRow, sql } from '../db/sql.js';
import { isUuidIgnoringCase } from '../ids.js';
import { recordAudit } from '../modules/audit/audit.service.js';

const INPUT_FIELDS = ['orderId', 'externalId', 'status', 'amount', 'currency'] as const;

export interface SettleCall {
  apiKeyId: string;
  apiKeyName: string;
  path: string;
  rawInput: unknown;
}

/** The fields of a settle call worth keeping, bounded: the raw input is the caller's and may be anything. */
function summarise(rawInput: unknown): Record<string, string | number> {
  const input = typeof rawInput === 'object' && rawInput !== null ? (rawInput as Record<string, unknown>) : {};
  const kept: Record<string, string | number> = {};
  for (const field of INPUT_FIELDS) {
    const value = input[field];
    if (typeof value === 'string') kept[field] = value.slice(0, 100);
    else if (typeof value === 'number' && Number.isFinite(value)) kept[field] = value;
  }
  return kept;
}

/**
 * One audit entry per call that asserted money was taken and changed something, naming the key,
 * beside the transition's own entry (which names the key by id only). It is attached to the order
 * the call named (by id or by the PayPal payment id), so it shows in that order's trail.
 */
export async function recordSettleCall(orm: MikroORM, call: SettleCall): Promise<void> {
  const input = summarise(call.rawInput);
  const em = orm.em.fork();
  const orderId = typeof input.orderId === 'string' && isUuidIgnoringCase(input.orderId) ? input.orderId : null;
  const externalId = typeof input.externalId === 'string' ? input.externalId : null;
  const order = await firstRow(
    em,
    sql<{ id: string }>`
      select id from "order" where id = ${orderId}::uuid
      union all
      select order_id from order_payment_attempt where external_id = ${externalId}
      limit 1`,
  );
  await recordAudit(em, {
    actor: { type: 'service', id: call.apiKeyId },
    action: 'payments.settle_call',
    orderId: order?.id ?? null,
    after: { procedure: call.path, apiKeyId: call.apiKeyId, apiKeyName: call.apiKeyName, input },
  });
}
