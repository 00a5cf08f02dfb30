import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { IpcMainInvokeEvent } from 'electron';
import { createBridge } from '../preload/bridge.js';
import { IPC } from '../shared/bridge.js';
import { createCsvExports, safeCsvFileName } from './csv-export.js';
import { registerIpcHandlers, createSenderCheck } from './ipc.js';
import { createSettingsStore } from './settings-store.js';
import { createTokenStore } from './token-store.js';
import { fakeSafeStorage, useTempDir } from './test-support.js';

/** CSV as the server streams it: header, quoted fields, CRLF, non-ASCII and a chunk boundary inside a row. */
const CHUNKS = [
  'id,status,total,currency,payer_email,note\r\n',
  '0193a5c2-0001,paid,25.00,USD,"ann@example.com","said ""thanks"", twice"\r\n0193a5c2-0002,refunded,1500,JPY,',
  'zoë@example.jp,"日本語 ✓"\r\n',
  '',
  '0193a5c2-0003,pending,10.50,EUR,,"€ and 😀"\r\n',
];

describe('CSV export in the main process', () => {
  const tempDir = useTempDir();

  /** `chosen: null` plays the user cancelling the save dialog. */
  function exportsIn(dir: string, chosen: string | null = path.join(dir, 'chosen.csv')) {
    const chooseCsvPath = vi.fn(async (_defaultPath: string) => chosen ?? undefined);
    return { csv: createCsvExports({ dialog: { chooseCsvPath }, defaultDir: dir }), chooseCsvPath };
  }

  it('writes exactly the bytes streamed, and the file appears only when complete', async () => {
    const dir = await tempDir();
    const { csv, chooseCsvPath } = exportsIn(dir);
    const id = await csv.begin(7, 'orders-20261123.csv');
    expect(chooseCsvPath).toHaveBeenCalledWith(path.join(dir, 'orders-20261123.csv'));
    for (const chunk of CHUNKS) await csv.write(7, id, chunk);
    expect(await readdir(dir)).toEqual([expect.stringMatching(/^chosen\.csv\.[0-9a-f]{8}\.part$/)]);
    const result = await csv.finish(7, id);
    const expected = Buffer.from(CHUNKS.join(''), 'utf8');
    expect(result).toEqual({ filePath: path.join(dir, 'chosen.csv'), bytes: expected.length });
    expect((await readFile(path.join(dir, 'chosen.csv'))).equals(expected)).toBe(true);
    expect(await readdir(dir)).toEqual(['chosen.csv']);
  });

  it('keeps chunk order even when writes are not awaited one by one', async () => {
    const dir = await tempDir();
    const { csv } = exportsIn(dir);
    const id = (await csv.begin(1, 'x.csv'))!;
    const lines = Array.from({ length: 500 }, (_, i) => `${i},${'x'.repeat(i % 50)}\n`);
    await Promise.all(lines.map((line) => csv.write(1, id, line)));
    await csv.finish(1, id);
    expect(await readFile(path.join(dir, 'chosen.csv'), 'utf8')).toBe(lines.join(''));
  });

  it('does nothing when the save dialog is cancelled', async () => {
    const dir = await tempDir();
    const { csv } = exportsIn(dir, null);
    expect(await csv.begin(1, 'x.csv')).toBeNull();
    expect(await readdir(dir)).toEqual([]);
  });

  it('aborts cleanly, and cleans up when the window goes away mid-export', async () => {
    const dir = await tempDir();
    const { csv } = exportsIn(dir);
    const aborted = (await csv.begin(1, 'x.csv'))!;
    await csv.write(1, aborted, 'a,b\n');
    await csv.abort(1, aborted);
    const orphaned = (await csv.begin(2, 'y.csv'))!;
    await csv.write(2, orphaned, 'c,d\n');
    await csv.abortAllOf(2);
    expect(await readdir(dir)).toEqual([]);
    expect(csv.inProgress).toBe(0);
    await expect(csv.write(2, orphaned, 'late\n')).rejects.toThrow('no such CSV export');
  });

  it('lets only the window that began an export write to it, and only strings', async () => {
    const dir = await tempDir();
    const { csv } = exportsIn(dir);
    const id = (await csv.begin(1, 'x.csv'))!;
    await expect(csv.write(99, id, 'intruder\n')).rejects.toThrow('no such CSV export');
    await expect(csv.write(1, id, Buffer.from('bytes') as unknown as string)).rejects.toThrow(TypeError);
    await expect(csv.write(1, 'made-up-id', 'x')).rejects.toThrow('no such CSV export');
    await csv.abort(1, id);
  });

  it('turns any suggested name into a plain .csv file name', () => {
    expect(safeCsvFileName('orders-20261123-1057.csv')).toBe('orders-20261123-1057.csv');
    expect(safeCsvFileName('../../etc/passwd')).toBe('passwd.csv');
    expect(safeCsvFileName('a<b>:c|d?.csv')).toBe('a_b_c_d_.csv');
    expect(safeCsvFileName('...')).toBe('orders.csv');
  });
});

describe('CSV streaming over IPC: preload bridge → ipcMain → file', () => {
  const tempDir = useTempDir();

  it('writes the exact bytes the renderer streamed', async () => {
    const dir = await tempDir();
    const handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown>();
    const ipcMain = { handle: (channel: string, handler: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown) => void handlers.set(channel, handler) };
    registerIpcHandlers({
      ipcMain,
      tokens: createTokenStore({ safeStorage: fakeSafeStorage(), filePath: path.join(dir, 'token.bin'), platform: 'linux' }),
      settings: createSettingsStore({ filePath: path.join(dir, 'settings.json') }),
      csv: createCsvExports({ dialog: { chooseCsvPath: async () => path.join(dir, 'export.csv') }, defaultDir: dir }),
      isTrustedSender: createSenderCheck(['orders://app']),
    });
    expect([...handlers.keys()].sort()).toEqual(Object.values(IPC).filter((c) => c !== IPC.menuCommand).sort());

    // Electron structured-clones arguments and results: so does this fake.
    const event = { sender: { id: 3 }, senderFrame: { url: 'orders://app/index.html#/orders' } } as unknown as IpcMainInvokeEvent;
    const ipcRenderer = {
      invoke: async (channel: string, ...args: unknown[]) => structuredClone(await handlers.get(channel)!(event, ...structuredClone(args))),
      on: vi.fn(),
      removeListener: vi.fn(),
    };
    const bridge = createBridge(ipcRenderer as never);
    const id = await bridge.saveCsv.begin('orders.csv');
    expect(id).toEqual(expect.any(String));
    for (const chunk of CHUNKS) await bridge.saveCsv.write(id!, chunk);
    const result = await bridge.saveCsv.finish(id!);
    const expected = Buffer.from(CHUNKS.join(''), 'utf8');
    expect(result.bytes).toBe(expected.length);
    expect((await readFile(path.join(dir, 'export.csv'))).equals(expected)).toBe(true);

    // The token and server URL travel the same way.
    await bridge.setToken('oss_token');
    expect(await bridge.getToken()).toBe('oss_token');
    await expect(bridge.setServerUrl('nope')).rejects.toThrow('"nope" is not a URL; enter e.g. http://127.0.0.1:4000');
  });

  it('refuses IPC from a frame that is not the app', async () => {
    const handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown>();
    const dir = await tempDir();
    registerIpcHandlers({
      ipcMain: { handle: (channel: string, handler: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown) => void handlers.set(channel, handler) },
      tokens: createTokenStore({ safeStorage: fakeSafeStorage(), filePath: path.join(dir, 'token.bin'), platform: 'linux' }),
      settings: createSettingsStore({ filePath: path.join(dir, 'settings.json') }),
      csv: createCsvExports({ dialog: { chooseCsvPath: async () => undefined }, defaultDir: dir }),
      isTrustedSender: createSenderCheck(['orders://app']),
    });
    const stranger = { sender: { id: 9 }, senderFrame: { url: 'https://evil.example/' } } as unknown as IpcMainInvokeEvent;
    const noFrame = { sender: { id: 9 }, senderFrame: null } as unknown as IpcMainInvokeEvent;
    expect(() => handlers.get(IPC.getToken)!(stranger)).toThrow('refused');
    expect(() => handlers.get(IPC.getToken)!(noFrame)).toThrow('refused');
  });
});
