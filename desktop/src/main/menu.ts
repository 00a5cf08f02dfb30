import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../shared/bridge.js';

/**
 * The application menu. Screen changes, export and log-out are sent to the renderer as commands,
 * so the menu and the in-app controls do exactly the same thing.
 */
export function buildMenuTemplate(options: { isMac: boolean; appName: string; isDev: boolean; send(command: MenuCommand): void }): MenuItemConstructorOptions[] {
  const { isMac, appName, isDev, send } = options;
  const command = (label: string, name: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    ...(accelerator ? { accelerator } : {}),
    click: () => send(name),
  });
  const template: MenuItemConstructorOptions[] = [];
  if (isMac) template.push({ label: appName, submenu: [{ role: 'about' }, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { role: 'quit' }] });
  template.push(
    {
      label: 'File',
      submenu: [
        command('Export CSV…', 'export-csv', 'CmdOrCtrl+E'),
        { type: 'separator' },
        command('Server…', 'go-settings', 'CmdOrCtrl+,'),
        command('Log Out', 'log-out'),
        ...(isMac ? [] : [{ type: 'separator' } as const, { role: 'quit' } as const]),
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        command('Dashboard', 'go-dashboard'),
        command('Orders', 'go-orders', 'CmdOrCtrl+1'),
        command('Reconciliation', 'go-reconciliation', 'CmdOrCtrl+2'),
        command('Staff && API Keys', 'go-admin', 'CmdOrCtrl+3'),
        { type: 'separator' },
        command('Refresh Data', 'reload-data', 'CmdOrCtrl+R'),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(isDev ? [{ role: 'toggleDevTools' } as const] : []),
      ],
    },
    { role: 'windowMenu' },
  );
  return template;
}
