import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { APP_ORIGIN, IPC, originOf } from '../shared/bridge.js';
import type { CsvExports } from './csv-export.js';
import type { SettingsStore } from './settings-store.js';
import type { TokenStore } from './token-store.js';

export type IpcMainApi = Pick<IpcMain, 'handle'>;

/**
 * Only the app's own pages may use the bridge: a frame from anywhere else (were one ever loaded)
 * gets nothing. The dev server's origin is trusted in development only.
 */
export function createSenderCheck(trustedOrigins: readonly string[]) {
  return (event: Pick<IpcMainInvokeEvent, 'senderFrame'>): boolean => {
    const origin = originOf(event.senderFrame?.url ?? '');
    return origin !== null && trustedOrigins.includes(origin);
  };
}

export function registerIpcHandlers(options: {
  ipcMain: IpcMainApi;
  tokens: TokenStore;
  settings: SettingsStore;
  csv: CsvExports;
  isTrustedSender(event: IpcMainInvokeEvent): boolean;
}): void {
  const { ipcMain, tokens, settings, csv, isTrustedSender } = options;
  const handle = (channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown) =>
    ipcMain.handle(channel, (event, ...args: unknown[]) => {
      if (!isTrustedSender(event)) throw new Error('refused: not the Orders app');
      return listener(event, ...args);
    });

  handle(IPC.getServerUrl, () => settings.getServerUrl());
  handle(IPC.setServerUrl, (_event, url) => settings.setServerUrl(url as string));
  handle(IPC.getToken, () => tokens.get());
  handle(IPC.setToken, async (_event, token) => {
    await tokens.set(token as string);
  });
  handle(IPC.clearToken, () => tokens.clear());
  handle(IPC.csvBegin, (event, name) => csv.begin(event.sender.id, name));
  handle(IPC.csvWrite, (event, id, chunk) => csv.write(event.sender.id, id, chunk));
  handle(IPC.csvFinish, (event, id) => csv.finish(event.sender.id, id));
  handle(IPC.csvAbort, (event, id) => csv.abort(event.sender.id, id));
}

export const DEFAULT_TRUSTED_ORIGINS = [APP_ORIGIN] as const;
