import type { MikroORM } from '@mikro-orm/postgresql';
import type { OrderNoteDto } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { db, firstRow, iso, sql, type EntityManager } from '../../db/sql.js';
import { notFound } from '../../errors.js';
import { recordAudit, type Actor } from '../audit/audit.service.js';
import { findOrder } from './order.repository.js';

/** Internal notes staff write on an order. Each note is also an audit entry, written in the same transaction. */
export class OrderNotesService {
  constructor(private readonly orm: MikroORM) {}

  async add(input: { orderId: string; body: string }, actor: Actor & { type: 'staff'; id: string }): Promise<OrderNoteDto> {
    const id = await this.orm.em.fork().transactional(async (tx) => {
      if (!(await findOrder(tx, input.orderId))) throw notFound('order');
      const note = await firstRow(
        tx,
        sql<{ id: string }>`
          insert into order_note (id, created_at, updated_at, order_id, staff_id, body)
          values (${newId()}, now(), now(), ${input.orderId}, ${actor.id}, ${input.body}) returning id`,
      );
      await recordAudit(tx, { actor, action: 'order.note_added', orderId: input.orderId, after: { noteId: note!.id, note: input.body } });
      return note!.id;
    });
    const [note] = await orderNotes(this.orm.em.fork(), input.orderId, id);
    return note!;
  }
}

/** An order's notes, oldest first, with who wrote each (or only the note `noteId`). */
export async function orderNotes(em: EntityManager, orderId: string, noteId?: string): Promise<OrderNoteDto[]> {
  let query = db(em)
    .selectFrom('order_note as n')
    .innerJoin('staff_user as u', 'u.id', 'n.staff_id')
    .select(['n.id', 'n.order_id as orderId', 'n.body', 'n.staff_id as staffId', 'u.email as staffEmail', 'n.created_at as createdAt'])
    .where('n.order_id', '=', orderId);
  if (noteId) query = query.where('n.id', '=', noteId);
  const notes = await query.orderBy('n.created_at').orderBy('n.id').execute();
  return notes.map((n) => ({ ...n, createdAt: iso(n.createdAt) }));
}
