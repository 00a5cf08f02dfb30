import http from 'node:http';

export interface RawAnswer {
  status: number;
  text: string;
  ms: number;
}

/**
 * One HTTP request with the path sent byte for byte (fetch and URL would normalise it) and, when
 * given, from a chosen loopback address: every 127.x.y.z is this machine, so each test client can be
 * its own "client address" to the server's per-address limits.
 */
export function rawRequest(
  baseUrl: string,
  options: { method: string; path: string; body?: string; headers?: Record<string, string>; from?: string; timeoutMs?: number },
): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: hostname,
        port,
        method: options.method,
        path: options.path,
        headers: { ...(options.body === undefined ? {} : { 'content-length': Buffer.byteLength(options.body) }), ...options.headers },
        ...(options.from ? { localAddress: options.from } : {}),
        agent: false,
        timeout: options.timeoutMs ?? 20_000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text, ms: performance.now() - started }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${options.method} ${options.path} timed out`)));
    request.on('error', reject);
    request.end(options.body);
  });
}

/** A login as an attacker sends it: raw path, JSON body (a batch body when the path asks for one). */
export function loginRequest(baseUrl: string, path: string, credentials: { email: string; password: string }, from: string): Promise<RawAnswer> {
  const query = path.includes('?') ? path.slice(path.indexOf('?') + 1) : '';
  const isBatch = new URLSearchParams(query).get('batch') === '1';
  const calls = decodeURIComponent(path.split('?')[0]!).split(',').length;
  const body = isBatch ? JSON.stringify(Object.fromEntries(Array.from({ length: calls }, (_, i) => [String(i), credentials]))) : JSON.stringify(credentials);
  return rawRequest(baseUrl, { method: 'POST', path, body, headers: { 'content-type': 'application/json' }, from });
}

/** The median of some numbers (a baseline less sensitive to one slow sample than the mean). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
