import { describe, expect, it, vi } from 'vitest';
import type { IpcRendererEvent } from 'electron';
import { IPC, type MenuCommand } from '../shared/bridge.js';
import { createBridge, exposeBridge, type IpcRendererApi } from './bridge.js';

function fakeIpcRenderer() {
  const listeners = new Map<string, Set<(event: IpcRendererEvent, ...args: unknown[]) => void>>();
  const invoke = vi.fn(async (_channel: string, ..._args: unknown[]): Promise<unknown> => undefined);
  const ipc = {
    invoke,
    on: vi.fn((channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(listener);
      return ipc;
    }),
    removeListener: vi.fn((channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void) => {
      listeners.get(channel)?.delete(listener);
      return ipc;
    }),
    emit: (channel: string, ...args: unknown[]) => listeners.get(channel)?.forEach((listener) => listener({ sender: 'secret' } as unknown as IpcRendererEvent, ...args)),
    listenerCount: (channel: string) => listeners.get(channel)?.size ?? 0,
  };
  return ipc;
}

describe('preload bridge', () => {
  it('exposes exactly the typed API as window.orders', () => {
    const exposeInMainWorld = vi.fn();
    exposeBridge({ exposeInMainWorld }, fakeIpcRenderer() as unknown as IpcRendererApi);
    expect(exposeInMainWorld).toHaveBeenCalledOnce();
    const [key, api] = exposeInMainWorld.mock.calls[0]!;
    expect(key).toBe('orders');
    expect(Object.keys(api).sort()).toEqual(['clearToken', 'getServerUrl', 'getToken', 'kind', 'onMenuCommand', 'saveCsv', 'setServerUrl', 'setToken']);
    expect(Object.keys(api.saveCsv).sort()).toEqual(['abort', 'begin', 'finish', 'write']);
  });

  it('maps each call to its channel, with arguments coerced to what main expects', async () => {
    const ipc = fakeIpcRenderer();
    ipc.invoke.mockResolvedValueOnce('http://127.0.0.1:4000');
    const bridge = createBridge(ipc as unknown as IpcRendererApi);
    expect(await bridge.getServerUrl()).toBe('http://127.0.0.1:4000');
    await bridge.setServerUrl('http://x');
    await bridge.setToken('t');
    await bridge.clearToken();
    await bridge.saveCsv.write('id', 'a,b\n');
    expect(ipc.invoke.mock.calls).toEqual([[IPC.getServerUrl], [IPC.setServerUrl, 'http://x'], [IPC.setToken, 't'], [IPC.clearToken], [IPC.csvWrite, 'id', 'a,b\n']]);
  });

  it('passes the main process’s own error message on, without Electron’s wrapper', async () => {
    const ipc = fakeIpcRenderer();
    ipc.invoke.mockRejectedValueOnce(new Error("Error invoking remote method 'orders:server-url:set': ServerUrlError: The server address must start with http:// or https://"));
    await expect(createBridge(ipc as unknown as IpcRendererApi).setServerUrl('ftp://x')).rejects.toThrow(/^The server address must start with http:\/\/ or https:\/\/$/);
  });

  it('delivers known menu commands only, never the IPC event, and unsubscribes', () => {
    const ipc = fakeIpcRenderer();
    const bridge = createBridge(ipc as unknown as IpcRendererApi);
    const received: unknown[][] = [];
    const unsubscribe = bridge.onMenuCommand((...args: unknown[]) => received.push(args));
    ipc.emit(IPC.menuCommand, 'go-orders' satisfies MenuCommand);
    ipc.emit(IPC.menuCommand, 'rm -rf /');
    ipc.emit(IPC.menuCommand, 'export-csv' satisfies MenuCommand);
    expect(received).toEqual([['go-orders'], ['export-csv']]);
    unsubscribe();
    expect(ipc.listenerCount(IPC.menuCommand)).toBe(0);
  });
});
