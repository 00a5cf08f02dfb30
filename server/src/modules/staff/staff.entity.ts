import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties, oneOf } from '../../db/base.entity.js';

export const StaffUser = defineEntity({
  name: 'StaffUser',
  tableName: 'staff_user',
  properties: {
    ...baseProperties(),
    email: p.string().length(254).unique('staff_user_email_unique'),
    passwordHash: p.string().length(255),
    role: p.string().length(16),
    disabled: p.boolean().default(false),
  },
  checks: [oneOf('staff_user_role_check', 'role', ['viewer', 'operator', 'admin'])],
});
export type IStaffUser = InferEntity<typeof StaffUser>;

export const StaffSession = defineEntity({
  name: 'StaffSession',
  tableName: 'staff_session',
  properties: {
    ...baseProperties(),
    staff: () => p.manyToOne(StaffUser).deleteRule('cascade'),
    /** sha256 of the bearer token; the token itself is never stored. */
    tokenHash: p.string().length(64).unique('staff_session_token_unique'),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
  },
});
export type IStaffSession = InferEntity<typeof StaffSession>;

export const ApiKey = defineEntity({
  name: 'ApiKey',
  tableName: 'api_key',
  properties: {
    ...baseProperties(),
    name: p.string().length(100),
    /** First characters of the key, shown to staff so they can tell keys apart. */
    prefix: p.string().length(16),
    keyHash: p.string().length(64).unique('api_key_hash_unique'),
    scopes: p.array(),
    disabled: p.boolean().default(false),
    lastUsedAt: p.datetime().nullable(),
  },
});
export type IApiKey = InferEntity<typeof ApiKey>;
