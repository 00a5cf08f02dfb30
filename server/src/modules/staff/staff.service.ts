import type { MikroORM } from '@mikro-orm/postgresql';
import { CUSTOMER_SCOPES, STAFF_ROLES, type ApiKeyListItem, type ApiKeyScope, type StaffListItem, type StaffRole } from '@orders/shared';
import { affected, firstRow, iso, rows, sql, type EntityManager } from '../../db/sql.js';
import { newId } from '../../db/base.entity.js';
import { DomainError, conflict, notFound } from '../../errors.js';
import { recordAudit, SYSTEM_ACTOR, type Actor } from '../audit/audit.service.js';
import { DUMMY_PASSWORD_HASH, hashPassword, hashSecret, newSecret, verifyPassword } from './credentials.js';
import { LoginLockout } from './login-lockout.js';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export type Principal =
  | { kind: 'service'; apiKeyId: string; name: string; scopes: ReadonlySet<ApiKeyScope> }
  | { kind: 'staff'; staffId: string; email: string; role: StaffRole; sessionId: string };

export interface StaffDto {
  id: string;
  email: string;
  role: StaffRole;
}

/** How stale an API key's "last used" may get: one write per key per minute at most. */
export const API_KEY_LAST_USED_EVERY = '1 minute';

/** viewer < operator < admin: whether `role` includes what `required` may do. */
export function roleAtLeast(role: StaffRole, required: StaffRole): boolean {
  return STAFF_ROLES.indexOf(role) >= STAFF_ROLES.indexOf(required);
}

const STAFF_COLUMNS = sql`id, email, role, disabled, created_at as "createdAt"`;
const API_KEY_COLUMNS = sql`id, name, prefix, scopes, disabled, created_at as "createdAt", last_used_at as "lastUsedAt"`;

function toStaffItem(row: StaffListItem): StaffListItem {
  return { ...row, createdAt: iso(row.createdAt) };
}

function toApiKeyItem(row: ApiKeyListItem): ApiKeyListItem {
  return { ...row, createdAt: iso(row.createdAt), lastUsedAt: iso(row.lastUsedAt) };
}

/** A security event staff can review: account locks, bootstrap changes, key and staff management. */
export interface SecurityEvent {
  id: string;
  createdAt: string;
  action: string;
  actorType: string;
  actorId: string | null;
  after: unknown;
  reason: string | null;
}

export class StaffService {
  constructor(
    private readonly orm: MikroORM,
    private readonly lockout: LoginLockout = new LoginLockout(),
  ) {}

  /** Resolves a bearer credential to whoever holds it; undefined when it names nobody valid. */
  async authenticate(bearer: string): Promise<Principal | undefined> {
    const hash = hashSecret(bearer);
    const em = this.orm.em.fork();
    // One function call (Migration20261201224500_authenticate_fn): its plan is kept by the connection.
    const found = await firstRow(
      em,
      sql<{ kind: 'service' | 'staff'; id: string; name: string | null; scopes: string[] | null; staffId: string | null; email: string | null; role: StaffRole | null; usedLongAgo: boolean | null }>`
        select * from orders_authenticate(${hash}, ${API_KEY_LAST_USED_EVERY}::interval)`,
    );
    if (!found) return undefined;
    if (found.kind === 'service') {
      if (found.usedLongAgo) await this.touchApiKey(em, found.id);
      return { kind: 'service', apiKeyId: found.id, name: found.name ?? '', scopes: new Set((found.scopes ?? []) as ApiKeyScope[]) };
    }
    return { kind: 'staff', staffId: found.staffId!, email: found.email!, role: found.role!, sessionId: found.id };
  }

  /**
   * "Last used" for staff: written at most once per API_KEY_LAST_USED_EVERY per key (the lookup above
   * says when it is due; the conditional update keeps instances racing on the same key to one write),
   * never once per request. A failed write only leaves the date older: the call goes on.
   */
  private async touchApiKey(em: EntityManager, apiKeyId: string): Promise<void> {
    await affected(
      em,
      sql`update api_key set last_used_at = now()
           where id = ${apiKeyId} and (last_used_at is null or last_used_at < now() - ${API_KEY_LAST_USED_EVERY}::interval)`,
    ).catch(() => undefined);
  }

  async login(email: string, password: string): Promise<{ token: string; expiresAt: Date; staff: StaffDto }> {
    const normalized = email.toLowerCase();
    // Checked before scrypt runs: a locked account costs no CPU, and it answers the same whether it exists or not.
    const gate = this.lockout.begin(normalized);
    if (!gate.allowed) {
      throw new DomainError(
        'TOO_MANY_REQUESTS',
        gate.lockedUntil ? `too many failed logins for this account; try again after ${gate.lockedUntil.toISOString()}` : 'too many logins for this account at once',
      );
    }
    const em = this.orm.em.fork();
    let user: { id: string; email: string; role: StaffRole; passwordHash: string; disabled: boolean } | undefined;
    let ok = false;
    try {
      user = await firstRow(
        em,
        sql<{ id: string; email: string; role: StaffRole; passwordHash: string; disabled: boolean }>`
          select id, email, role, password_hash as "passwordHash", disabled from staff_user where email = ${normalized}`,
      );
      // Always run scrypt, so response time does not reveal whether the email exists.
      ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    } catch (error) {
      this.lockout.abandon(normalized);
      throw error;
    }
    if (!user || !ok || user.disabled) {
      const lock = this.lockout.recordFailure(normalized);
      if (lock) {
        await recordAudit(em, {
          actor: SYSTEM_ACTOR,
          action: 'staff.login_locked',
          orderId: null,
          after: { staffId: user?.id ?? null, email: normalized, failures: lock.failures, lockedUntil: lock.lockedUntil.toISOString() },
          reason: 'repeated failed logins',
        });
      }
      throw new DomainError('UNAUTHORIZED', 'invalid email or password');
    }
    this.lockout.recordSuccess(normalized);
    const token = newSecret('oss');
    const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    await affected(
      em,
      sql`insert into staff_session (id, created_at, updated_at, staff_id, token_hash, expires_at)
          values (${newId()}, now(), now(), ${user.id}, ${hashSecret(token)}, ${expiresAt})`,
    );
    return { token, expiresAt, staff: { id: user.id, email: user.email, role: user.role } };
  }

  /** Creates or updates a staff user; the password is stored only as a scrypt hash. */
  async ensureStaff(email: string, password: string, role: StaffRole): Promise<StaffDto> {
    const em = this.orm.em.fork();
    const row = await firstRow(
      em,
      sql<StaffDto>`
        insert into staff_user (id, created_at, updated_at, email, password_hash, role, disabled)
        values (${newId()}, now(), now(), ${email.toLowerCase()}, ${await hashPassword(password)}, ${role}, false)
        on conflict (email) do update set password_hash = excluded.password_hash, role = excluded.role,
          disabled = false, updated_at = now()
        returning id, email, role`,
    );
    return row!;
  }

  /** Whether a staff session still works (not revoked, not expired, its member not disabled). */
  async sessionActive(sessionId: string): Promise<boolean> {
    const found = await firstRow(
      this.orm.em.fork(),
      sql<{ id: string }>`
        select s.id from staff_session s join staff_user u on u.id = s.staff_id
         where s.id = ${sessionId} and s.revoked_at is null and s.expires_at > now() and not u.disabled`,
    );
    return found !== undefined;
  }

  /** The latest audit entries that concern no order: locks, bootstrap, staff and key management. */
  async securityEvents(limit = 200): Promise<SecurityEvent[]> {
    const found = await rows(
      this.orm.em.fork(),
      sql<SecurityEvent>`
        select id, created_at as "createdAt", action, actor_type as "actorType", actor_id as "actorId", after, reason
          from audit_entry where order_id is null order by created_at desc, id desc limit ${limit}`,
    );
    return found.map((row) => ({ ...row, createdAt: iso(row.createdAt) }));
  }

  /** Ends a staff session: its token stops working at once. */
  async logout(sessionId: string): Promise<void> {
    await affected(this.orm.em.fork(), sql`update staff_session set revoked_at = now(), updated_at = now() where id = ${sessionId} and revoked_at is null`);
  }

  async listStaff(): Promise<StaffListItem[]> {
    const found = await rows(this.orm.em.fork(), sql<StaffListItem>`select ${STAFF_COLUMNS} from staff_user order by created_at, id`);
    return found.map(toStaffItem);
  }

  /** A new staff member; an email already in use is a CONFLICT, never an overwrite. */
  async createStaff(input: { email: string; password: string; role: StaffRole }, actor: Actor): Promise<StaffListItem> {
    const passwordHash = await hashPassword(input.password);
    return this.orm.em.fork().transactional(async (em) => {
      const row = await firstRow(
        em,
        sql<StaffListItem>`
          insert into staff_user (id, created_at, updated_at, email, password_hash, role, disabled)
          values (${newId()}, now(), now(), ${input.email.toLowerCase()}, ${passwordHash}, ${input.role}, false)
          on conflict (email) do nothing
          returning ${STAFF_COLUMNS}`,
      );
      if (!row) throw conflict('a staff member with this email already exists');
      await recordAudit(em, { actor, action: 'staff.created', orderId: null, after: { staffId: row.id, email: row.email, role: row.role } });
      return toStaffItem(row);
    });
  }

  /** Disabling also revokes the member's sessions; nobody can lock themselves out. */
  async setStaffDisabled(staffId: string, disabled: boolean, actor: Actor): Promise<StaffListItem> {
    if (disabled && actor.type === 'staff' && actor.id === staffId) throw conflict('you cannot disable your own account');
    return this.orm.em.fork().transactional(async (em) => {
      const before = await firstRow(em, sql<{ disabled: boolean }>`select disabled from staff_user where id = ${staffId} for update`);
      if (!before) throw notFound('staff member');
      const row = await firstRow(
        em,
        sql<StaffListItem>`update staff_user set disabled = ${disabled}, updated_at = now() where id = ${staffId} returning ${STAFF_COLUMNS}`,
      );
      if (disabled) {
        await affected(em, sql`update staff_session set revoked_at = now(), updated_at = now() where staff_id = ${staffId} and revoked_at is null`);
      }
      await recordAudit(em, {
        actor,
        action: disabled ? 'staff.disabled' : 'staff.enabled',
        orderId: null,
        before: { staffId, disabled: before.disabled },
        after: { staffId, disabled },
      });
      return toStaffItem(row!);
    });
  }

  /**
   * Another member's role (an admin may not change their own: the one admin left could demote
   * themselves). Every call reads the role afresh (orders_authenticate), so it applies to the member's
   * open sessions at once. The same role again changes nothing and is not audited.
   */
  async setStaffRole(staffId: string, role: StaffRole, actor: Actor): Promise<StaffListItem> {
    if (actor.type === 'staff' && actor.id === staffId) throw conflict('you cannot change your own role');
    return this.orm.em.fork().transactional(async (em) => {
      const before = await firstRow(em, sql<StaffListItem>`select ${STAFF_COLUMNS} from staff_user where id = ${staffId} for update`);
      if (!before) throw notFound('staff member');
      if (before.role === role) return toStaffItem(before);
      const row = await firstRow(em, sql<StaffListItem>`update staff_user set role = ${role}, updated_at = now() where id = ${staffId} returning ${STAFF_COLUMNS}`);
      await recordAudit(em, { actor, action: 'staff.role_changed', orderId: null, before: { staffId, role: before.role }, after: { staffId, role } });
      return toStaffItem(row!);
    });
  }

  async listApiKeys(): Promise<ApiKeyListItem[]> {
    const found = await rows(this.orm.em.fork(), sql<ApiKeyListItem>`select ${API_KEY_COLUMNS} from api_key order by created_at, id`);
    return found.map(toApiKeyItem);
  }

  /** A new random service key; the plain key is returned once and never stored. */
  async createApiKey(
    name: string,
    scopes: readonly ApiKeyScope[] = [...CUSTOMER_SCOPES],
    actor: Actor = SYSTEM_ACTOR,
  ): Promise<ApiKeyListItem & { key: string }> {
    const key = newSecret('ok');
    return this.orm.em.fork().transactional(async (em) => {
      const row = await firstRow(
        em,
        sql<ApiKeyListItem>`
          insert into api_key (id, created_at, updated_at, name, prefix, key_hash, scopes, disabled)
          values (${newId()}, now(), now(), ${name}, ${key.slice(0, 8)}, ${hashSecret(key)}, ${[...new Set(scopes)]}, false)
          returning ${API_KEY_COLUMNS}`,
      );
      await recordAudit(em, { actor, action: 'api_key.created', orderId: null, after: { apiKeyId: row!.id, name, scopes: row!.scopes } });
      return { ...toApiKeyItem(row!), key };
    });
  }

  async setApiKeyDisabled(id: string, disabled: boolean, actor: Actor = SYSTEM_ACTOR): Promise<ApiKeyListItem> {
    return this.orm.em.fork().transactional(async (em) => {
      const before = await firstRow(em, sql<{ disabled: boolean }>`select disabled from api_key where id = ${id} for update`);
      if (!before) throw notFound('API key');
      const row = await firstRow(em, sql<ApiKeyListItem>`update api_key set disabled = ${disabled}, updated_at = now() where id = ${id} returning ${API_KEY_COLUMNS}`);
      await recordAudit(em, {
        actor,
        action: disabled ? 'api_key.disabled' : 'api_key.enabled',
        orderId: null,
        before: { apiKeyId: id, disabled: before.disabled },
        after: { apiKeyId: id, disabled },
      });
      return toApiKeyItem(row!);
    });
  }
}
