import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_DIR, loadIpnCorpus, loadManifest, loadWebhookCorpus, rewriteIpn } from './corpus.ts';

const isAscii = (b: Buffer): boolean => b.every((c) => c < 0x80);

describe('PayPal message corpus', () => {
  it('every manifest entry points at a file that loads', () => {
    const manifest = loadManifest();
    expect(manifest.length).toBeGreaterThan(0);
    for (const e of manifest) {
      expect(existsSync(join(CORPUS_DIR, e.file)), e.file).toBe(true);
      expect(e.source.repo).toMatch(/^[^/]+\/[^/]+$/);
      expect(e.source.url).toContain(e.source.repo);
    }
    const loaded = loadIpnCorpus().length + loadWebhookCorpus().length;
    expect(loaded).toBe(manifest.length);
  });

  it('IPN bodies are one ASCII line and carry payment_status or txn_type', () => {
    for (const e of loadIpnCorpus()) {
      const body = e.body!;
      expect(isAscii(body), e.file).toBe(true);
      expect(body.includes(0x0a) || body.includes(0x0d), e.file).toBe(false);
      const p = new URLSearchParams(body.toString('latin1'));
      expect(p.has('payment_status') || p.has('txn_type'), e.file).toBe(true);
      expect(p.get('payment_status'), e.file).toBe(e.payment_status ?? null);
      expect(p.get('txn_id'), e.file).toBe(e.txn_id);
    }
  });

  it('webhooks parse and match their manifest entry', () => {
    for (const e of loadWebhookCorpus()) {
      const j = e.json as { event_type?: string; resource?: { id?: string } };
      expect(j.event_type, e.file).toBe(e.event_type);
      expect(j.resource?.id, e.file).toBe(e.txn_id);
    }
  });

  it('rewriteIpn keeps every untouched byte', () => {
    for (const e of loadIpnCorpus()) {
      const body = e.body!;
      const s = body.toString('latin1');
      const idx = s.indexOf('&txn_id=') >= 0 ? s.indexOf('&txn_id=') + 1 : s.startsWith('txn_id=') ? 0 : -1;
      if (idx < 0) continue;
      const end = s.indexOf('&', idx) === -1 ? s.length : s.indexOf('&', idx);
      const out = rewriteIpn(body, { txn_id: 'NEWTXN0000000001X' });
      const replacement = Buffer.from('txn_id=NEWTXN0000000001X');
      expect(out.subarray(0, idx).equals(body.subarray(0, idx)), e.file).toBe(true);
      expect(out.subarray(idx, idx + replacement.length).equals(replacement), e.file).toBe(true);
      expect(out.subarray(idx + replacement.length).equals(body.subarray(end)), e.file).toBe(true);
    }
  });

  it('rewriteIpn keeps windows-1252 / UTF-8 bytes of other fields as they were', () => {
    const win = loadIpnCorpus().find((e) => e.charset === 'windows-1252' && e.body!.includes('J%F6rg'))!;
    const out = rewriteIpn(win.body!, { receiver_email: 'shop@example.com', mc_gross: '42.00' });
    expect(out.toString('latin1')).toContain('first_name=J%F6rg');
    expect(out.toString('latin1')).toContain('receiver_email=shop%40example.com');
    const utf = loadIpnCorpus().find((e) => e.charset === 'UTF-8')!;
    expect(rewriteIpn(utf.body!, { custom: 'order 7' }).toString('latin1')).toContain('address_city=D%C3%BAn+B%C3%BAinne');
  });

  it('rewriteIpn round-trips with URLSearchParams (set, append, remove)', () => {
    for (const e of loadIpnCorpus()) {
      const before = new URLSearchParams(e.body!.toString('latin1'));
      const changes: Record<string, string | null> = {
        mc_gross: '19.95',
        mc_currency: 'USD',
        custom: 'order:42 & more',
        invoice: 'INV-0001',
        verify_sign: null,
        brand_new_field: 'a b+c/d',
      };
      const out = rewriteIpn(e.body!, changes);
      expect(isAscii(out), e.file).toBe(true);
      const after = new URLSearchParams(out.toString('latin1'));
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) expect(after.has(k), `${e.file} ${k}`).toBe(false);
        else expect(after.getAll(k).every((x) => x === v) && after.has(k), `${e.file} ${k}`).toBe(true);
      }
      for (const [k, v] of before) {
        if (k in changes) continue;
        expect(after.getAll(k), `${e.file} ${k}`).toContain(v);
      }
      // untouched field order is preserved
      const order = (p: URLSearchParams): string[] => [...p.keys()].filter((k) => !(k in changes));
      expect(order(after), e.file).toEqual(order(before));
    }
  });

  it('rewriteIpn with no changes is the identity', () => {
    for (const e of loadIpnCorpus()) expect(rewriteIpn(e.body!, {}).equals(e.body!), e.file).toBe(true);
  });
});
