import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CrlfRecords } from './csv-export.js';

async function through(chunks: string[]): Promise<string> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new CrlfRecords())) out.push(chunk as Buffer);
  return Buffer.concat(out).toString();
}

describe('CrlfRecords', () => {
  const csv = 'a,b\n1,"x\ny"\n2,"say ""hi""\n, ok"\n3,plain\n';
  const expected = 'a,b\r\n1,"x\ny"\r\n2,"say ""hi""\n, ok"\r\n3,plain\r\n';

  it('ends records with CRLF and keeps line breaks inside quoted cells', async () => {
    expect(await through([csv])).toBe(expected);
  });

  it('gives the same bytes however COPY cut its output into chunks (inside quotes, between "" halves)', async () => {
    for (let size = 1; size <= csv.length; size++) {
      const chunks: string[] = [];
      for (let at = 0; at < csv.length; at += size) chunks.push(csv.slice(at, at + size));
      expect(await through(chunks)).toBe(expected);
    }
  });
});
