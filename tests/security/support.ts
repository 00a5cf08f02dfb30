import pg from 'pg';

/**
 * A fingerprint of every application table (row count and an md5 of all rows), to prove that a
 * refused request changed nothing. pg-boss's own schema is left out: it is the job queue's
 * bookkeeping, not data; so is an API key's `last_used_at` (written at most once a minute per key
 * whenever the key is presented, refused or not: when a key was last seen, not a change it made).
 */
export async function dbFingerprint(pool: pg.Pool): Promise<Record<string, string>> {
  const { rows: tables } = await pool.query<{ name: string }>(
    `select table_name as name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'mikro_orm%' order by 1`,
  );
  const statement = tables
    .map((t) => `select '${t.name}' as name, count(*)::text || ':' || md5(coalesce(string_agg((to_jsonb(x) - 'last_used_at')::text, '|' order by (to_jsonb(x) - 'last_used_at')::text), '')) as print from "${t.name}" x`)
    .join(' union all ');
  const { rows } = await pool.query<{ name: string; print: string }>(statement);
  return Object.fromEntries(rows.map((r) => [r.name, r.print]));
}

export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((t) => before[t] !== after[t]);
}

/** Credentials of the limits and log suites, each recognisable wherever it would leak. */
export const SECRETS = {
  serviceKey: 'secret-service-key-QWERTY-0123456789',
  adminPassword: 'hunter2-but-longer-Passw0rd',
  clientSecret: 'paypal-client-secret-ZXCVBN-987654',
};
export const SECRETS_ADMIN = 'admin@limits.example';
/** The PayPal account those suites' servers use, with SECRETS.clientSecret. */
export const SECRETS_PAYPAL = { clientId: 'limits-client', clientSecret: SECRETS.clientSecret, receiverEmail: 'limits@orders.example' };

/** What no answer to a client may contain: stack frames, SQL, driver or file-system details. */
export const LEAK = /node_modules|\bat [\w.<>]+ \(|\.ts:\d+|\bselect\b.+\bfrom\b|insert into|update "?\w+"? set|violates|relation "|syntax error|duplicate key|ECONNREFUSED|127\.0\.0\.1:\d+|postgres(ql)?:\/\//i;

/** Keys that must never appear on Object.prototype, whatever a request carried. */
export function prototypeIsClean(): boolean {
  const probe = {} as Record<string, unknown>;
  return (
    Object.getOwnPropertyNames(Object.prototype).every((k) => ORIGINAL_PROTO_KEYS.has(k)) &&
    probe.polluted === undefined &&
    probe.isAdmin === undefined &&
    probe.role === undefined
  );
}
const ORIGINAL_PROTO_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));

export interface TrpcAnswer {
  status: number;
  text: string;
  code?: string;
  message?: string;
  data?: unknown;
}

/** A raw tRPC call over HTTP (GET for queries, POST for mutations), as any client could make it. */
export async function callProcedure(
  trpcUrl: string,
  proc: { path: string; type: 'query' | 'mutation' | 'subscription' },
  token: string | undefined,
  input: unknown,
  timeoutMs = 10_000,
): Promise<TrpcAnswer> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const json = input === undefined ? undefined : JSON.stringify(input);
  const response =
    proc.type === 'mutation'
      ? await fetch(`${trpcUrl}/${proc.path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: json ?? '', signal: AbortSignal.timeout(timeoutMs) })
      : await fetch(`${trpcUrl}/${proc.path}${json === undefined ? '' : `?input=${encodeURIComponent(json)}`}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let body: { error?: { message?: string; data?: { code?: string } } } | undefined;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, text, code: body?.error?.data?.code, message: body?.error?.message, data: body?.error?.data };
}

export type ProcType = 'query' | 'mutation' | 'subscription';
export interface ProcedureInfo {
  path: string;
  type: ProcType;
  hasInput: boolean;
}

/**
 * Every procedure of a tRPC router, by dotted path. `_def.procedures` is typed as the nested router
 * record, but at run time tRPC keeps it flat, keyed by full path: that is what is enumerated here.
 */
export function listProcedures(router: { _def: { procedures: unknown } }): ProcedureInfo[] {
  return Object.entries(router._def.procedures as Record<string, { _def: { type: ProcType; inputs: unknown[] } }>)
    .map(([path, p]) => ({ path, type: p._def.type, hasInput: p._def.inputs.length > 0 }))
    .sort((a, b) => a.path.localeCompare(b.path));
}
