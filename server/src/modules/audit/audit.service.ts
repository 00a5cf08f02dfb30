import type { ActorType } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { affected, sql, type EntityManager } from '../../db/sql.js';

export type { ActorType } from '@orders/shared';

export interface Actor {
  type: ActorType;
  id: string | null;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null };

export interface AuditRecord {
  actor: Actor;
  action: string;
  orderId: string | null;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

/** Appends to the audit trail inside the caller's transaction, so the entry exists iff the change does. */
export async function recordAudit(em: EntityManager, record: AuditRecord): Promise<void> {
  await affected(
    em,
    sql`insert into audit_entry (id, created_at, updated_at, actor_type, actor_id, action, order_id, before, after, reason)
        values (${newId()}, now(), now(), ${record.actor.type}, ${record.actor.id}, ${record.action}, ${record.orderId},
                ${record.before === undefined ? null : JSON.stringify(record.before)}::jsonb,
                ${record.after === undefined ? null : JSON.stringify(record.after)}::jsonb, ${record.reason ?? null})`,
  );
}
