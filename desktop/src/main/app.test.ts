import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { BrowserWindowConstructorOptions, HandlerDetails, IpcMainInvokeEvent, MenuItemConstructorOptions } from 'electron';
import { IPC } from '../shared/bridge.js';
import { startDesktopApp, type ElectronAdapter, type WindowApi } from './app.js';
import { fakeSafeStorage, useTempDir } from './test-support.js';

type Listener = (...args: unknown[]) => void;

function fakeWindow(id: number) {
  const contentsListeners = new Map<string, Listener[]>();
  const windowListeners = new Map<string, Listener[]>();
  let openHandler: ((details: HandlerDetails) => { action: string }) | undefined;
  const on = (map: Map<string, Listener[]>) => (event: string, listener: Listener) => void map.set(event, [...(map.get(event) ?? []), listener]);
  const window = {
    webContents: {
      id,
      send: vi.fn(),
      setWindowOpenHandler: vi.fn((handler) => void (openHandler = handler)),
      on: vi.fn(on(contentsListeners)),
      executeJavaScript: vi.fn(async () => 'object'),
      getTitle: () => 'Orders — Back office',
      getURL: () => 'orders://app/index.html',
    },
    isDestroyed: vi.fn(() => false),
    isMinimized: vi.fn(() => true),
    restore: vi.fn(),
    show: vi.fn(),
    focus: vi.fn(),
    loadURL: vi.fn(async () => undefined),
    once: vi.fn(on(windowListeners)),
    on: vi.fn(on(windowListeners)),
    emit: (event: string, ...args: unknown[]) => windowListeners.get(event)?.forEach((listener) => listener(...args)),
    emitContents: (event: string, ...args: unknown[]) => contentsListeners.get(event)?.forEach((listener) => listener(...args)),
    openWindow: (url: string) => openHandler!({ url } as HandlerDetails),
  };
  return window;
}

function fakeElectron(options: { lock?: boolean; platform?: NodeJS.Platform; userData: string }) {
  const appListeners = new Map<string, Listener[]>();
  const handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown>();
  const windows: ReturnType<typeof fakeWindow>[] = [];
  const windowOptions: BrowserWindowConstructorOptions[] = [];
  let menu: MenuItemConstructorOptions[] | undefined;
  let schemeHandler: ((request: Request) => Promise<Response>) | undefined;
  const electron = {
    platform: options.platform ?? 'linux',
    appName: 'Orders',
    requestSingleInstanceLock: vi.fn(() => options.lock ?? true),
    quit: vi.fn(),
    whenReady: vi.fn(async () => undefined),
    onAppEvent: vi.fn((event: string, listener: Listener) => void appListeners.set(event, [...(appListeners.get(event) ?? []), listener])),
    getPath: vi.fn((name: string) => path.join(options.userData, name)),
    registerAppScheme: vi.fn(),
    handleAppScheme: vi.fn((handler) => void (schemeHandler = handler)),
    netFetch: vi.fn(async () => new Response('ok')),
    ipcMain: { handle: vi.fn((channel: string, handler) => void handlers.set(channel, handler)) },
    safeStorage: fakeSafeStorage(),
    showSaveDialog: vi.fn(async () => undefined),
    setApplicationMenu: vi.fn((template: MenuItemConstructorOptions[]) => void (menu = template)),
    createWindow: vi.fn((windowOptionsArg: BrowserWindowConstructorOptions) => {
      windowOptions.push(windowOptionsArg);
      const window = fakeWindow(windows.length + 1);
      windows.push(window);
      return window as unknown as WindowApi;
    }),
    openExternal: vi.fn(),
    prefersDarkColors: vi.fn(() => true),
  } satisfies ElectronAdapter;
  return {
    electron,
    windows,
    windowOptions,
    handlers,
    menu: () => menu,
    schemeHandler: () => schemeHandler,
    emitApp: (event: string) => appListeners.get(event)?.forEach((listener) => listener()),
  };
}

const OPTIONS = { preloadPath: '/app/out/preload/index.cjs', rendererDir: '/app/out/renderer' };

describe('Electron main process', () => {
  const tempDir = useTempDir();

  it('a second instance hands over to the first and quits without opening anything', async () => {
    const fake = fakeElectron({ lock: false, userData: await tempDir() });
    const app = startDesktopApp(fake.electron, OPTIONS);
    await app.ready;
    expect(app.primary).toBe(false);
    expect(fake.electron.quit).toHaveBeenCalledOnce();
    expect(fake.electron.registerAppScheme).toHaveBeenCalledOnce();
    expect(fake.electron.whenReady).not.toHaveBeenCalled();
    expect(fake.electron.createWindow).not.toHaveBeenCalled();
    expect(fake.electron.ipcMain.handle).not.toHaveBeenCalled();
  });

  it('the first instance opens one locked-down window on the app scheme, and focuses it when launched again', async () => {
    const fake = fakeElectron({ userData: await tempDir() });
    const app = startDesktopApp(fake.electron, OPTIONS);
    await app.ready;
    expect(app.primary).toBe(true);
    expect(fake.electron.registerAppScheme.mock.invocationCallOrder[0]).toBeLessThan(fake.electron.whenReady.mock.invocationCallOrder[0]!);
    expect(fake.windowOptions).toHaveLength(1);
    expect(fake.windowOptions[0]!.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      webviewTag: false,
    });
    const [window] = fake.windows;
    expect(window!.loadURL).toHaveBeenCalledWith('orders://app/index.html');
    window!.emit('ready-to-show');
    expect(window!.show).toHaveBeenCalled();

    fake.emitApp('second-instance');
    expect(fake.windows).toHaveLength(1);
    expect(window!.restore).toHaveBeenCalled();
    expect(window!.focus).toHaveBeenCalled();
  });

  it('registers every IPC channel, the app scheme and the menu; menu items reach the renderer', async () => {
    const fake = fakeElectron({ userData: await tempDir() });
    await startDesktopApp(fake.electron, OPTIONS).ready;
    expect([...fake.handlers.keys()].sort()).toEqual(Object.values(IPC).filter((channel) => channel !== IPC.menuCommand).sort());
    expect(fake.schemeHandler()).toBeTypeOf('function');
    const file = fake.menu()!.find((item) => item.label === 'File')!;
    const exportItem = (file.submenu as MenuItemConstructorOptions[]).find((item) => item.label === 'Export CSV…')!;
    expect(exportItem.accelerator).toBe('CmdOrCtrl+E');
    exportItem.click!(undefined as never, undefined as never, undefined as never);
    expect(fake.windows[0]!.webContents.send).toHaveBeenCalledWith(IPC.menuCommand, 'export-csv');
  });

  it('keeps the window on the app: no navigation away, new windows denied, web links opened in the browser', async () => {
    const fake = fakeElectron({ userData: await tempDir() });
    await startDesktopApp(fake.electron, OPTIONS).ready;
    const window = fake.windows[0]!;
    const away = { url: 'https://evil.example/', preventDefault: vi.fn() };
    const inside = { url: 'orders://app/index.html#/orders', preventDefault: vi.fn() };
    window.emitContents('will-navigate', away);
    window.emitContents('will-navigate', inside);
    expect(away.preventDefault).toHaveBeenCalled();
    expect(inside.preventDefault).not.toHaveBeenCalled();
    expect(window.openWindow('https://www.paypal.com/activity')).toEqual({ action: 'deny' });
    expect(fake.electron.openExternal).toHaveBeenCalledWith('https://www.paypal.com/activity');
    expect(window.openWindow('file:///etc/passwd')).toEqual({ action: 'deny' });
    expect(fake.electron.openExternal).toHaveBeenCalledTimes(1);
  });

  it('serves IPC to the app page only, persisting the token encrypted under userData', async () => {
    const userData = await tempDir();
    const fake = fakeElectron({ userData });
    await startDesktopApp(fake.electron, OPTIONS).ready;
    const fromApp = { sender: { id: 1 }, senderFrame: { url: 'orders://app/index.html' } } as unknown as IpcMainInvokeEvent;
    const fromElsewhere = { sender: { id: 1 }, senderFrame: { url: 'https://evil.example/' } } as unknown as IpcMainInvokeEvent;
    await fake.handlers.get(IPC.setToken)!(fromApp, 'oss_abc');
    expect(await fake.handlers.get(IPC.getToken)!(fromApp)).toBe('oss_abc');
    expect(() => fake.handlers.get(IPC.getToken)!(fromElsewhere)).toThrow('refused');
    expect(await fake.handlers.get(IPC.getServerUrl)!(fromApp)).toBe('http://127.0.0.1:4000');
  });

  it('quits when the window closes, except on macOS', async () => {
    const linux = fakeElectron({ userData: await tempDir() });
    await startDesktopApp(linux.electron, OPTIONS).ready;
    linux.emitApp('window-all-closed');
    expect(linux.electron.quit).toHaveBeenCalled();
    const mac = fakeElectron({ platform: 'darwin', userData: await tempDir() });
    await startDesktopApp(mac.electron, OPTIONS).ready;
    mac.emitApp('window-all-closed');
    expect(mac.electron.quit).not.toHaveBeenCalled();
  });

  it('in smoke-test mode reports the loaded page and the bridge, then quits', async () => {
    const fake = fakeElectron({ userData: await tempDir() });
    const log = vi.fn();
    await startDesktopApp(fake.electron, { ...OPTIONS, smokeTest: true, log }).ready;
    fake.windows[0]!.emitContents('did-finish-load');
    await vi.waitFor(() => expect(fake.electron.quit).toHaveBeenCalled());
    expect(log).toHaveBeenCalledWith('ORDERS_DESKTOP_READY {"title":"Orders — Back office","url":"orders://app/index.html","bridge":"object"}');
  });
});
