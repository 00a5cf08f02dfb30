import { TextDecoder } from 'node:util';

/**
 * Reads an IPN body without changing a byte of it: the raw Buffer is what gets stored and posted
 * back for verification; the decoded fields are only for acting on a VERIFIED message.
 */
export type IpnFields = Readonly<Record<string, string>>;

const hexValue = (code: number): number =>
  code >= 0x30 && code <= 0x39 ? code - 0x30 : code >= 0x41 && code <= 0x46 ? code - 0x37 : code >= 0x61 && code <= 0x66 ? code - 0x57 : -1;

/**
 * Form decoding to bytes: `+` is a space, `%XX` a byte, a `%` without two hex digits itself.
 * `value` comes from a latin1 reading of the body, so each character is exactly one byte.
 * (Byte by byte into one buffer: the listener and the worker both parse every message.)
 */
function percentDecodeToBytes(value: string): Buffer {
  const bytes = Buffer.allocUnsafe(value.length);
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x2b) bytes[n++] = 0x20;
    else if (code === 0x25 && i + 2 < value.length && hexValue(value.charCodeAt(i + 1)) >= 0 && hexValue(value.charCodeAt(i + 2)) >= 0) {
      bytes[n++] = hexValue(value.charCodeAt(i + 1)) * 16 + hexValue(value.charCodeAt(i + 2));
      i += 2;
    } else bytes[n++] = code;
  }
  return bytes.subarray(0, n);
}

/** Printable ASCII without `%` or `+`: a field that decodes to itself. */
const ASCII_VERBATIM = /^[\x20-\x24\x26-\x2a\x2c-\x7e]*$/;

/** One decoder per charset name seen (decode() without streaming keeps no state between calls). */
const decoders = new Map<string, TextDecoder>();

function decoderFor(charset: string | undefined): TextDecoder {
  const name = (charset ?? 'windows-1252').trim().toLowerCase();
  let decoder = decoders.get(name);
  if (!decoder) {
    try {
      decoder = new TextDecoder(name);
    } catch {
      decoder = decoderFor('windows-1252');
    }
    // Bounded: a hostile sender could name a new charset in every message.
    if (decoders.size < 64) decoders.set(name, decoder);
  }
  return decoder;
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
  // ASCII reads the same in every charset PayPal sends (all are ASCII-compatible): most fields skip the decoder.
  const text = (raw: string) => {
    if (ASCII_VERBATIM.test(raw)) return raw;
    const bytes = percentDecodeToBytes(raw);
    return bytes.every((b) => b < 0x80) ? bytes.toString('latin1') : decoder.decode(bytes);
  };
  for (const [key, value] of pairs) {
    const name = text(key);
    if (!(name in fields)) fields[name] = text(value);
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
