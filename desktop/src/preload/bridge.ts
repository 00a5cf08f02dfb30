import type { ContextBridge, IpcRenderer, IpcRendererEvent } from 'electron';
import { IPC, MENU_COMMANDS, type MenuCommand, type OrdersBridge } from '../shared/bridge.js';

export type IpcRendererApi = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

/** Electron prefixes errors from ipcMain handlers; the renderer shows the handler's own words. */
function cleanIpcError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(message.replace(/^Error invoking remote method '[^']+': (?:\w*Error: )?/, ''));
}

/**
 * The whole surface the renderer gets: plain functions over named IPC channels. No ipcRenderer,
 * no event objects and no Node API ever cross into the page.
 */
export function createBridge(ipc: IpcRendererApi): OrdersBridge {
  const invoke = async <T>(channel: string, ...args: unknown[]): Promise<T> => {
    try {
      return (await ipc.invoke(channel, ...args)) as T;
    } catch (error) {
      throw cleanIpcError(error);
    }
  };
  return {
    kind: 'electron',
    getServerUrl: () => invoke<string>(IPC.getServerUrl),
    setServerUrl: (url) => invoke<string>(IPC.setServerUrl, String(url)),
    getToken: () => invoke<string | null>(IPC.getToken),
    setToken: (token) => invoke<void>(IPC.setToken, String(token)),
    clearToken: () => invoke<void>(IPC.clearToken),
    saveCsv: {
      begin: (suggestedName) => invoke<string | null>(IPC.csvBegin, String(suggestedName)),
      write: (streamId, chunk) => invoke<void>(IPC.csvWrite, String(streamId), String(chunk)),
      finish: (streamId) => invoke(IPC.csvFinish, String(streamId)),
      abort: (streamId) => invoke<void>(IPC.csvAbort, String(streamId)),
    },
    onMenuCommand(listener) {
      const forward = (_event: IpcRendererEvent, command: unknown) => {
        if ((MENU_COMMANDS as readonly unknown[]).includes(command)) listener(command as MenuCommand);
      };
      ipc.on(IPC.menuCommand, forward);
      return () => {
        ipc.removeListener(IPC.menuCommand, forward);
      };
    },
  };
}

export function exposeBridge(contextBridge: Pick<ContextBridge, 'exposeInMainWorld'>, ipc: IpcRendererApi): void {
  contextBridge.exposeInMainWorld('orders', createBridge(ipc));
}
