// Loader for the PayPal IPN / webhook message corpus (see README.md in this folder).
// The files hold the messages exactly as their sources have them; tests that need a message to
// match an order they created rewrite the few order-specific fields at post time with rewriteIpn().
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CorpusChannel = 'ipn' | 'webhook';

export interface CorpusSource {
  repo: string;
  path: string;
  commit: string;
  url: string;
}

/** One manifest entry plus the message itself (`body` for IPN, `json` for webhooks). */
export interface CorpusEntry {
  file: string;
  channel: CorpusChannel;
  source: CorpusSource;
  license: string;
  reconstructed: boolean;
  charset: string;
  payment_status?: string | null;
  txn_type?: string | null;
  event_type?: string | null;
  txn_id: string | null;
  parent_txn_id: string | null;
  mc_gross: string | null;
  mc_currency: string | null;
  notes: string;
  /** IPN only: the raw form body bytes, exactly as stored. */
  body?: Buffer;
  /** Webhook only: the parsed event. */
  json?: unknown;
  /** Webhook only: the raw event bytes, exactly as stored. */
  raw?: Buffer;
}

export const CORPUS_DIR: string = dirname(fileURLToPath(import.meta.url));

export function loadManifest(): CorpusEntry[] {
  const text = readFileSync(join(CORPUS_DIR, 'manifest.json'), 'utf8');
  return JSON.parse(text) as CorpusEntry[];
}

export function loadIpnCorpus(): CorpusEntry[] {
  return loadManifest()
    .filter((e) => e.channel === 'ipn')
    .map((e) => ({ ...e, body: readFileSync(join(CORPUS_DIR, e.file)) }));
}

export function loadWebhookCorpus(): CorpusEntry[] {
  return loadManifest()
    .filter((e) => e.channel === 'webhook')
    .map((e) => {
      const raw = readFileSync(join(CORPUS_DIR, e.file));
      return { ...e, raw, json: JSON.parse(raw.toString('utf8')) as unknown };
    });
}

const AMP = 0x26; // '&'
const EQ = 0x3d; // '='

/** Form-encode a value the way encodeURIComponent does, with spaces as '+'. */
export function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/**
 * Form-decode a field NAME for matching (names are ASCII in practice). Bytes are mapped 1:1
 * (latin1), so matching never depends on the message's charset.
 */
function decodeName(raw: Buffer): string {
  const s = raw.toString('latin1').replace(/\+/g, ' ');
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * Replace, add or remove fields in a raw application/x-www-form-urlencoded body while keeping
 * every other byte as it was: field order, the original percent-encoding and charset of untouched
 * fields, empty segments. A string sets the field (every occurrence of that name; appended at
 * the end when absent), null removes every occurrence. New values are encoded with
 * encodeURIComponent (UTF-8) and spaces as '+'.
 */
export function rewriteIpn(body: Buffer, changes: Record<string, string | null>): Buffer {
  const pending = new Map<string, string | null>(Object.entries(changes));
  const seen = new Set<string>();
  const out: Buffer[] = [];
  let first = true;
  const push = (seg: Buffer): void => {
    if (!first) out.push(Buffer.from([AMP]));
    out.push(seg);
    first = false;
  };

  let start = 0;
  const segments: Buffer[] = [];
  for (let i = 0; i <= body.length; i++) {
    if (i === body.length || body[i] === AMP) {
      segments.push(body.subarray(start, i));
      start = i + 1;
    }
  }
  if (body.length === 0) segments.length = 0;

  for (const seg of segments) {
    const eq = seg.indexOf(EQ);
    const rawName = eq === -1 ? seg : seg.subarray(0, eq);
    const name = decodeName(rawName);
    if (seg.length > 0 && pending.has(name)) {
      seen.add(name);
      const value = pending.get(name);
      if (value === null || value === undefined) continue; // removed
      push(Buffer.concat([rawName, Buffer.from([EQ]), Buffer.from(formEncode(value), 'ascii')]));
    } else {
      push(seg);
    }
  }
  for (const [name, value] of pending) {
    if (seen.has(name) || value === null) continue;
    push(Buffer.from(`${formEncode(name)}=${formEncode(value)}`, 'ascii'));
  }
  return Buffer.concat(out);
}
