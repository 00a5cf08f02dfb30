import { TextDecoder } from 'node:util';

/**
 * Reads an IPN body without changing a byte of it: the raw Buffer is what gets stored and posted
 * back for verification; the decoded fields are only for acting on a VERIFIED message.
 */
export type IpnFields = Readonly<Record<string, string>>;

function percentDecodeToBytes(value: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '+') bytes.push(0x20);
    else if (ch === '%' && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(ch, 'latin1'));
  }
  return Buffer.from(bytes);
}

function decoderFor(charset: string | undefined): TextDecoder {
  try {
    return new TextDecoder((charset ?? 'windows-1252').trim().toLowerCase());
  } catch {
    return new TextDecoder('windows-1252');
  }
}

/** Decodes `a=b&c=d` using the message's own `charset` field (PayPal's default is windows-1252). */
export function parseIpn(raw: Buffer): IpnFields {
  const pairs = raw
    .toString('latin1')
    .split('&')
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    }) as [string, string][];
  const charsetPair = pairs.find(([key]) => key === 'charset');
  const decoder = decoderFor(charsetPair ? percentDecodeToBytes(charsetPair[1]).toString('latin1') : undefined);
  // A null-prototype object: keys such as __proto__ in a hostile body stay plain data.
  const fields: Record<string, string> = Object.create(null);
  for (const [key, value] of pairs) {
    const name = decoder.decode(percentDecodeToBytes(key));
    if (!(name in fields)) fields[name] = decoder.decode(percentDecodeToBytes(value));
  }
  return fields;
}

export type IpnVerdict = 'VERIFIED' | 'INVALID';

export class IpnVerificationUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpnVerificationUnavailable';
  }
}

/**
 * PayPal's postback: `cmd=_notify-validate&` followed by the exact bytes received. Anything but a
 * clear VERIFIED/INVALID (network error, 5xx, odd body) throws, so the job is retried later.
 */
export async function verifyIpn(verifyUrl: string, raw: Buffer, timeoutMs = 10_000): Promise<IpnVerdict> {
  let response: Response;
  try {
    response = await fetch(verifyUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Orders-IPN-Verifier' },
      body: Buffer.concat([Buffer.from('cmd=_notify-validate&'), raw]),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new IpnVerificationUnavailable(`IPN verification request failed: ${(error as Error).message}`);
  }
  const text = (await response.text()).trim();
  if (!response.ok) throw new IpnVerificationUnavailable(`IPN verification answered HTTP ${response.status}`);
  if (text === 'VERIFIED' || text === 'INVALID') return text;
  throw new IpnVerificationUnavailable(`IPN verification answered neither VERIFIED nor INVALID`);
}
