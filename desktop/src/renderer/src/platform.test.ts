import { describe, expect, it, vi } from 'vitest';
import type { OrdersBridge } from '../../shared/bridge';
import { browserPlatform, electronPlatform } from './platform';

async function* chunks(...parts: string[]) {
  for (const part of parts) yield part;
}

describe('browser platform (no window.orders)', () => {
  function make() {
    localStorage.clear();
    sessionStorage.clear();
    const download = vi.fn<(blob: Blob, name: string) => void>();
    const downloadUrl = vi.fn<(url: string) => void>();
    return { platform: browserPlatform({ location: { origin: 'http://shop.test' }, localStorage, sessionStorage, download, downloadUrl }), download, downloadUrl };
  }

  it('talks to the page’s own origin unless another server is set, and validates it', async () => {
    const { platform } = make();
    expect(await platform.apiBaseUrl()).toBe('http://shop.test');
    expect(await platform.setServerUrl(' https://orders.example.com/ ')).toBe('https://orders.example.com');
    expect(await platform.apiBaseUrl()).toBe('https://orders.example.com');
    await expect(platform.setServerUrl('ftp://x')).rejects.toThrow(/http/);
    await platform.setServerUrl('http://shop.test');
    expect(localStorage.length).toBe(0);
  });

  it('never keeps a token in page storage (the session is an httpOnly cookie), and forgets one an earlier build left', async () => {
    const { platform } = make();
    sessionStorage.setItem('orders.sessionToken', 'oss_old');
    expect(await platform.getToken()).toBeNull();
    expect(sessionStorage.length).toBe(0);
    await platform.setToken('oss_abc');
    expect(sessionStorage.length).toBe(0);
    expect(localStorage.length).toBe(0);
    expect(await platform.getToken()).toBeNull();
    expect(platform.cookieSession).toBeDefined();
  });

  it('asks the session route who the cookie logs in: a staff member, nobody, or an error it can describe', async () => {
    const answers = [
      Response.json({ staff: { id: 's1', email: 'ada@example.com', role: 'operator', extra: 'not kept' } }),
      Response.json({ staff: null }),
      Response.json({ error: { code: 'SERVICE_UNAVAILABLE', message: 'the database is unavailable; try again' } }, { status: 503 }),
    ];
    const fetch = vi.fn<typeof globalThis.fetch>(async () => answers.shift()!);
    localStorage.clear();
    const platform = browserPlatform({ location: { origin: 'http://shop.test' }, localStorage, sessionStorage, download: vi.fn(), downloadUrl: vi.fn(), fetch });
    expect(await platform.cookieSession!.current()).toEqual({ id: 's1', email: 'ada@example.com', role: 'operator' });
    expect(await platform.cookieSession!.current()).toBeNull();
    await expect(platform.cookieSession!.current()).rejects.toMatchObject({ message: 'the database is unavailable; try again', data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503 } });
    // A plain GET with the cookie: no CSRF header needed, nothing changes.
    expect(fetch).toHaveBeenCalledWith('http://shop.test/backoffice/api/session', { credentials: 'include' });
  });

  it("downloads a filter's CSV from the server as a plain download, the filter in the query as the server reads it", async () => {
    const { platform, downloadUrl, download } = make();
    platform.downloadCsv!({ status: ['paid', 'refunded'], currency: 'USD', amountMin: 5000, q: 'amelia rob', createdFrom: '2026-11-01T00:00:00.000Z', customerId: undefined, sort: 'total', direction: 'asc' });
    expect(downloadUrl).toHaveBeenCalledWith(
      'http://shop.test/backoffice/api/orders.csv?status=paid%2Crefunded&currency=USD&amountMin=5000&q=amelia+rob&createdFrom=2026-11-01T00%3A00%3A00.000Z&sort=total&direction=asc',
    );
    expect(download).not.toHaveBeenCalled();
    // From the server set in the app, when it is not the page's own.
    await platform.setServerUrl('https://orders.example.com');
    platform.downloadCsv!({ sort: 'created', direction: 'desc' });
    expect(downloadUrl).toHaveBeenLastCalledWith('https://orders.example.com/backoffice/api/orders.csv?sort=created&direction=desc');
  });

  it('downloads the streamed CSV as one Blob', async () => {
    const { platform, download } = make();
    const outcome = await platform.saveCsv('orders.csv', chunks('id,total\n', 'a,€1\n'));
    expect(outcome).toEqual({ saved: true, bytes: 16, location: 'orders.csv' }); // € is 3 bytes
    const [blob, name] = download.mock.calls[0]!;
    expect(name).toBe('orders.csv');
    expect(await blob.text()).toBe('id,total\na,€1\n');
  });
});

describe('electron platform (window.orders)', () => {
  function fakeBridge() {
    const written: string[] = [];
    const bridge: OrdersBridge = {
      kind: 'electron',
      getServerUrl: vi.fn(async () => 'http://127.0.0.1:4000'),
      setServerUrl: vi.fn(async (url: string) => url),
      getToken: vi.fn(async () => 'tok'),
      setToken: vi.fn(async () => undefined),
      clearToken: vi.fn(async () => undefined),
      saveCsv: {
        begin: vi.fn(async () => 'stream-1'),
        write: vi.fn(async (_id: string, chunk: string) => void written.push(chunk)),
        finish: vi.fn(async () => ({ filePath: '/home/me/orders.csv', bytes: 12 })),
        abort: vi.fn(async () => undefined),
      },
      onMenuCommand: vi.fn(() => () => undefined),
    };
    return { bridge, written };
  }

  it('calls the API on its own origin (the main process forwards it) and streams CSV chunks over the bridge in order', async () => {
    const { bridge, written } = fakeBridge();
    const platform = electronPlatform(bridge, { origin: 'orders://app' });
    expect(await platform.apiBaseUrl()).toBe('orders://app');
    const outcome = await platform.saveCsv('orders.csv', chunks('a,b\n', '1,2\n', '3,4\n'));
    expect(written).toEqual(['a,b\n', '1,2\n', '3,4\n']);
    expect(outcome).toEqual({ saved: true, bytes: 12, location: '/home/me/orders.csv' });
  });

  it('stops when the save dialog is cancelled, and aborts the file when the stream fails', async () => {
    const { bridge } = fakeBridge();
    const platform = electronPlatform(bridge, { origin: 'orders://app' });
    vi.mocked(bridge.saveCsv.begin).mockResolvedValueOnce(null);
    expect(await platform.saveCsv('x.csv', chunks('never read'))).toEqual({ saved: false, bytes: 0 });
    async function* failing() {
      yield 'a,b\n';
      throw new Error('connection lost');
    }
    await expect(platform.saveCsv('x.csv', failing())).rejects.toThrow('connection lost');
    expect(bridge.saveCsv.abort).toHaveBeenCalledWith('stream-1');
    expect(bridge.saveCsv.finish).not.toHaveBeenCalled();
  });
});
