import type { MikroORM } from '@mikro-orm/postgresql';
import { API_KEY_SCOPES, type ApiKeyScope } from '@orders/shared';
import type { AppConfig } from '../../config.js';
import { newId } from '../../db/base.entity.js';
import { affected, firstRow, sql } from '../../db/sql.js';
import type { Logger } from '../../logger.js';
import { recordAudit, SYSTEM_ACTOR } from '../audit/audit.service.js';
import { hashPassword, hashSecret } from './credentials.js';

/** Whether any staff member can log in as admin: a fresh install has none until BOOTSTRAP_ADMIN_* creates one. */
export async function hasEnabledAdmin(orm: MikroORM): Promise<boolean> {
  return (await firstRow(orm.em.fork(), sql<{ one: number }>`select 1 as one from staff_user where role = 'admin' and not disabled limit 1`)) !== undefined;
}

/**
 * Creates the bootstrap credentials from the environment when missing, so a fresh install can be used
 * at once. What exists is left as staff made it: a disabled key or admin stays disabled, a password
 * is kept (unless BOOTSTRAP_RESET_ADMIN_PASSWORD=1 asks for a reset on purpose).
 */
export async function bootstrapCredentials(orm: MikroORM, config: AppConfig, logger: Logger): Promise<void> {
  const { serviceApiKey, adminEmail, adminPassword, resetAdminPassword } = config.bootstrap;
  if (serviceApiKey) {
    const key = await ensureBootstrapApiKey(orm, serviceApiKey);
    if (key.disabled) logger.warn({ apiKeyId: key.id }, 'bootstrap service API key is disabled by staff; left disabled');
    else logger.info({ created: key.created, addedScopes: key.addedScopes }, 'bootstrap service API key ensured');
  }
  if (adminEmail && adminPassword) {
    const admin = await ensureBootstrapAdmin(orm, adminEmail, adminPassword, { resetPassword: resetAdminPassword });
    if (admin.disabled) logger.warn({ email: adminEmail }, 'bootstrap admin is disabled by staff; left disabled');
    else logger.info({ email: adminEmail, created: admin.created, passwordReset: admin.passwordReset }, 'bootstrap admin ensured');
  }
}

/**
 * The bootstrap service key (BOOTSTRAP_SERVICE_API_KEY), with every scope. Creates it when missing;
 * an existing key only gains scopes it lacks (a scope added in a new version). A key staff disabled
 * stays disabled: a restart must not undo an admin's decision.
 */
async function ensureBootstrapApiKey(orm: MikroORM, key: string): Promise<{ id: string; created: boolean; addedScopes: ApiKeyScope[]; disabled: boolean }> {
  const hash = hashSecret(key);
  return orm.em.fork().transactional(async (em) => {
    const inserted = await firstRow(
      em,
      sql<{ id: string }>`
        insert into api_key (id, created_at, updated_at, name, prefix, key_hash, scopes, disabled)
        values (${newId()}, now(), now(), 'bootstrap', ${key.slice(0, 8)}, ${hash}, ${[...API_KEY_SCOPES]}, false)
        on conflict (key_hash) do nothing
        returning id`,
    );
    if (inserted) {
      await recordAudit(em, { actor: SYSTEM_ACTOR, action: 'api_key.created', orderId: null, after: { apiKeyId: inserted.id, name: 'bootstrap', scopes: API_KEY_SCOPES }, reason: 'bootstrap' });
      return { id: inserted.id, created: true, addedScopes: [], disabled: false };
    }
    const existing = (await firstRow(em, sql<{ id: string; scopes: ApiKeyScope[]; disabled: boolean }>`select id, scopes, disabled from api_key where key_hash = ${hash} for update`))!;
    const addedScopes = API_KEY_SCOPES.filter((scope) => !existing.scopes.includes(scope));
    if (addedScopes.length > 0) {
      await affected(em, sql`update api_key set scopes = ${[...existing.scopes, ...addedScopes]}, updated_at = now() where id = ${existing.id}`);
      await recordAudit(em, {
        actor: SYSTEM_ACTOR,
        action: 'api_key.scopes_added',
        orderId: null,
        before: { apiKeyId: existing.id, scopes: existing.scopes },
        after: { apiKeyId: existing.id, scopes: [...existing.scopes, ...addedScopes] },
        reason: 'bootstrap',
      });
    }
    return { id: existing.id, created: false, addedScopes, disabled: existing.disabled };
  });
}

/**
 * The bootstrap admin (BOOTSTRAP_ADMIN_EMAIL/PASSWORD). Creates it when missing; an existing member
 * is left as staff made it (role, disabled, password), unless `resetPassword` is asked for on
 * purpose (BOOTSTRAP_RESET_ADMIN_PASSWORD=1): then only the password changes and its sessions end.
 */
async function ensureBootstrapAdmin(
  orm: MikroORM,
  email: string,
  password: string,
  options: { resetPassword: boolean },
): Promise<{ id: string; created: boolean; passwordReset: boolean; disabled: boolean }> {
  const normalized = email.toLowerCase();
  const passwordHash = await hashPassword(password);
  return orm.em.fork().transactional(async (em) => {
    const inserted = await firstRow(
      em,
      sql<{ id: string }>`
        insert into staff_user (id, created_at, updated_at, email, password_hash, role, disabled)
        values (${newId()}, now(), now(), ${normalized}, ${passwordHash}, 'admin', false)
        on conflict (email) do nothing
        returning id`,
    );
    if (inserted) {
      await recordAudit(em, { actor: SYSTEM_ACTOR, action: 'staff.created', orderId: null, after: { staffId: inserted.id, email: normalized, role: 'admin' }, reason: 'bootstrap' });
      return { id: inserted.id, created: true, passwordReset: false, disabled: false };
    }
    const existing = (await firstRow(em, sql<{ id: string; disabled: boolean }>`select id, disabled from staff_user where email = ${normalized} for update`))!;
    if (!options.resetPassword) return { id: existing.id, created: false, passwordReset: false, disabled: existing.disabled };
    await affected(em, sql`update staff_user set password_hash = ${passwordHash}, updated_at = now() where id = ${existing.id}`);
    await affected(em, sql`update staff_session set revoked_at = now(), updated_at = now() where staff_id = ${existing.id} and revoked_at is null`);
    await recordAudit(em, { actor: SYSTEM_ACTOR, action: 'staff.password_reset', orderId: null, after: { staffId: existing.id, email: normalized }, reason: 'BOOTSTRAP_RESET_ADMIN_PASSWORD' });
    return { id: existing.id, created: false, passwordReset: true, disabled: existing.disabled };
  });
}
