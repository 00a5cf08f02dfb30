/**
 * Electron entry: builds the adapter from the real Electron modules and hands over to app.ts,
 * where all the logic lives (and is tested with fakes).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, Menu, app, dialog, ipcMain, nativeTheme, net, protocol, safeStorage, shell } from 'electron';
import { APP_SCHEME } from '../shared/bridge.js';
import { startDesktopApp, type ElectronAdapter } from './app.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const electron: ElectronAdapter = {
  platform: process.platform,
  appName: app.getName(),
  requestSingleInstanceLock: () => app.requestSingleInstanceLock(),
  quit: () => app.quit(),
  whenReady: () => app.whenReady(),
  onAppEvent: (event, listener) => {
    app.on(event as 'activate', listener);
  },
  getPath: (name) => app.getPath(name),
  registerAppScheme: () =>
    protocol.registerSchemesAsPrivileged([
      { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, codeCache: true } },
    ]),
  handleAppScheme: (handler) => protocol.handle(APP_SCHEME, handler),
  netFetch: (url, init) => net.fetch(url, init),
  ipcMain,
  safeStorage,
  showSaveDialog: async (window, defaultPath) => {
    const options = { title: 'Export orders as CSV', defaultPath, filters: [{ name: 'CSV', extensions: ['csv'] }] };
    // Every WindowApi here is a BrowserWindow: createWindow below is the only maker.
    const parent = window && !window.isDestroyed() ? (window as BrowserWindow) : undefined;
    const result = parent ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options);
    return result.canceled ? undefined : result.filePath;
  },
  setApplicationMenu: (template) => Menu.setApplicationMenu(Menu.buildFromTemplate(template)),
  createWindow: (options) => new BrowserWindow(options),
  openExternal: (url) => void shell.openExternal(url),
  prefersDarkColors: () => nativeTheme.shouldUseDarkColors,
};

startDesktopApp(electron, {
  preloadPath: path.join(here, '../preload/index.cjs'),
  rendererDir: path.join(here, '../renderer'),
  devServerUrl: process.env.ELECTRON_RENDERER_URL,
  serverUrlFromEnv: process.env.ORDERS_SERVER_URL,
  smokeTest: process.env.ORDERS_DESKTOP_SMOKE_TEST === '1',
});
