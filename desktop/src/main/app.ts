import path from 'node:path';
import type { BrowserWindowConstructorOptions, Event as ElectronEvent, HandlerDetails, MenuItemConstructorOptions, WindowOpenHandlerResponse } from 'electron';
import { APP_ORIGIN, IPC, originOf, type MenuCommand } from '../shared/bridge.js';
import { createAppProtocolHandler } from './app-protocol.js';
import { createCsvExports } from './csv-export.js';
import { DEFAULT_TRUSTED_ORIGINS, createSenderCheck, registerIpcHandlers, type IpcMainApi } from './ipc.js';
import { buildMenuTemplate } from './menu.js';
import { createSettingsStore } from './settings-store.js';
import { createTokenStore, type SafeStorageApi } from './token-store.js';

export interface WebContentsApi {
  readonly id: number;
  send(channel: string, ...args: unknown[]): void;
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void;
  on(event: 'will-navigate', listener: (event: ElectronEvent<{ url: string }>) => void): unknown;
  on(event: 'did-finish-load' | 'destroyed', listener: () => void): unknown;
  executeJavaScript(code: string): Promise<unknown>;
  getTitle(): string;
  getURL(): string;
}

export interface WindowApi {
  readonly webContents: WebContentsApi;
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
  loadURL(url: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): unknown;
  on(event: 'closed', listener: () => void): unknown;
}

/**
 * Everything the main process needs from Electron, as one small adapter: `index.ts` builds it from
 * the real modules, the tests from fakes.
 */
export interface ElectronAdapter {
  readonly platform: NodeJS.Platform;
  readonly appName: string;
  requestSingleInstanceLock(): boolean;
  quit(): void;
  whenReady(): Promise<void>;
  onAppEvent(event: 'second-instance' | 'window-all-closed' | 'activate', listener: () => void): void;
  getPath(name: 'userData' | 'downloads'): string;
  /** protocol.registerSchemesAsPrivileged: must happen before the app is ready. */
  registerAppScheme(): void;
  handleAppScheme(handler: (request: Request) => Promise<Response>): void;
  netFetch(url: string, init: RequestInit): Promise<Response>;
  readonly ipcMain: IpcMainApi;
  readonly safeStorage: SafeStorageApi;
  showSaveDialog(window: WindowApi | undefined, defaultPath: string): Promise<string | undefined>;
  setApplicationMenu(template: MenuItemConstructorOptions[]): void;
  createWindow(options: BrowserWindowConstructorOptions): WindowApi;
  openExternal(url: string): void;
  prefersDarkColors(): boolean;
}

export interface DesktopAppOptions {
  /** Built preload script (out/preload/index.cjs). */
  preloadPath: string;
  /** Built renderer (out/renderer). */
  rendererDir: string;
  /** electron-vite dev server, in development only. */
  devServerUrl?: string | undefined;
  /** ORDERS_SERVER_URL: the server to use until one is chosen in the app. */
  serverUrlFromEnv?: string | undefined;
  /** ORDERS_DESKTOP_SMOKE_TEST=1: print one line once the window has loaded, then quit (the launch test). */
  smokeTest?: boolean;
  log?: (line: string) => void;
}

export interface DesktopApp {
  /** False when another instance already runs: this one hands over and quits. */
  primary: boolean;
  ready: Promise<void>;
  mainWindow(): WindowApi | undefined;
}

export const WINDOW_TITLE = 'Orders — Back office';

export function secureWindowOptions(preloadPath: string, dark: boolean): BrowserWindowConstructorOptions {
  return {
    width: 1360,
    height: 880,
    minWidth: 980,
    minHeight: 620,
    show: false,
    title: WINDOW_TITLE,
    backgroundColor: dark ? '#111418' : '#f6f7f9',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}

export function startDesktopApp(electron: ElectronAdapter, options: DesktopAppOptions): DesktopApp {
  const log = options.log ?? ((line: string) => console.log(line));
  electron.registerAppScheme();

  if (!electron.requestSingleInstanceLock()) {
    electron.quit();
    return { primary: false, ready: Promise.resolve(), mainWindow: () => undefined };
  }

  const appOrigin = options.devServerUrl ? (originOf(options.devServerUrl) ?? APP_ORIGIN) : APP_ORIGIN;
  const startUrl = options.devServerUrl ?? `${APP_ORIGIN}/index.html`;
  const isAppUrl = (url: string) => originOf(url) === appOrigin;
  let mainWindow: WindowApi | undefined;
  let onWindowContentsGone: (id: number) => void = () => undefined;

  function createMainWindow(): WindowApi {
    const window = electron.createWindow(secureWindowOptions(options.preloadPath, electron.prefersDarkColors()));
    const contents = window.webContents;
    const contentsId = contents.id;
    contents.setWindowOpenHandler(({ url }) => {
      if (/^https?:\/\//i.test(url)) electron.openExternal(url);
      return { action: 'deny' };
    });
    contents.on('will-navigate', (event) => {
      if (!isAppUrl(event.url)) event.preventDefault();
    });
    contents.on('destroyed', () => onWindowContentsGone(contentsId));
    window.once('ready-to-show', () => window.show());
    window.on('closed', () => {
      if (mainWindow === window) mainWindow = undefined;
    });
    if (options.smokeTest) {
      contents.on('did-finish-load', () => {
        void contents.executeJavaScript('typeof window.orders').then((bridge) => {
          log(`ORDERS_DESKTOP_READY ${JSON.stringify({ title: contents.getTitle(), url: contents.getURL(), bridge })}`);
          electron.quit();
        });
      });
    }
    void window.loadURL(startUrl);
    return window;
  }

  function showMainWindow() {
    if (!mainWindow || mainWindow.isDestroyed()) {
      mainWindow = createMainWindow();
      return;
    }
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
  }

  // A second launch focuses this window instead of opening another app.
  electron.onAppEvent('second-instance', () => {
    if (mainWindow) showMainWindow();
  });
  electron.onAppEvent('window-all-closed', () => {
    if (electron.platform !== 'darwin') electron.quit();
  });

  const ready = electron.whenReady().then(() => {
    const userData = electron.getPath('userData');
    const settings = createSettingsStore({ filePath: path.join(userData, 'settings.json'), fallbackServerUrl: options.serverUrlFromEnv });
    const tokens = createTokenStore({ safeStorage: electron.safeStorage, filePath: path.join(userData, 'session-token.bin'), platform: electron.platform });
    const csv = createCsvExports({
      dialog: { chooseCsvPath: (defaultPath) => electron.showSaveDialog(mainWindow, defaultPath) },
      defaultDir: electron.getPath('downloads'),
    });
    onWindowContentsGone = (id) => void csv.abortAllOf(id);

    electron.handleAppScheme(
      createAppProtocolHandler({ rendererDir: options.rendererDir, getServerUrl: () => settings.getServerUrl(), fetch: (url, init) => electron.netFetch(url, init) }),
    );
    registerIpcHandlers({
      ipcMain: electron.ipcMain,
      tokens,
      settings,
      csv,
      isTrustedSender: createSenderCheck(options.devServerUrl ? [...DEFAULT_TRUSTED_ORIGINS, appOrigin] : DEFAULT_TRUSTED_ORIGINS),
    });
    const send = (command: MenuCommand) => {
      if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(IPC.menuCommand, command);
    };
    electron.setApplicationMenu(buildMenuTemplate({ isMac: electron.platform === 'darwin', appName: electron.appName, isDev: Boolean(options.devServerUrl), send }));
    electron.onAppEvent('activate', showMainWindow);
    mainWindow = createMainWindow();
  });

  return { primary: true, ready, mainWindow: () => mainWindow };
}
