import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_URL } from '../shared/server-url.js';
import { createSettingsStore } from './settings-store.js';
import { useTempDir } from './test-support.js';

describe('settings store (server URL)', () => {
  const tempDir = useTempDir();

  it('starts at ORDERS_SERVER_URL or the default, and persists a valid choice, normalized', async () => {
    const filePath = path.join(await tempDir(), 'settings.json');
    expect(await createSettingsStore({ filePath }).getServerUrl()).toBe(DEFAULT_SERVER_URL);
    const store = createSettingsStore({ filePath, fallbackServerUrl: 'http://10.0.0.5:4000/' });
    expect(await store.getServerUrl()).toBe('http://10.0.0.5:4000');
    expect(await store.setServerUrl(' https://orders.example.com/ ')).toBe('https://orders.example.com');
    expect(JSON.parse(await readFile(filePath, 'utf8'))).toEqual({ serverUrl: 'https://orders.example.com' });
    expect(await createSettingsStore({ filePath }).getServerUrl()).toBe('https://orders.example.com');
  });

  it('rejects an invalid URL with a readable message and keeps the previous one', async () => {
    const filePath = path.join(await tempDir(), 'settings.json');
    const store = createSettingsStore({ filePath });
    await store.setServerUrl('http://127.0.0.1:4100');
    await expect(store.setServerUrl('ftp://files.example.com')).rejects.toThrow('The server address must start with http:// or https://');
    await expect(store.setServerUrl('http://admin:pw@host')).rejects.toThrow(/user name or password/);
    await expect(store.setServerUrl({} as string)).rejects.toThrow(TypeError);
    expect(await store.getServerUrl()).toBe('http://127.0.0.1:4100');
    expect(await createSettingsStore({ filePath }).getServerUrl()).toBe('http://127.0.0.1:4100');
  });

  it('falls back when the file is corrupt or holds an invalid URL', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'a.json'), '{not json');
    await writeFile(path.join(dir, 'b.json'), JSON.stringify({ serverUrl: 'javascript:alert(1)' }));
    expect(await createSettingsStore({ filePath: path.join(dir, 'a.json') }).getServerUrl()).toBe(DEFAULT_SERVER_URL);
    expect(await createSettingsStore({ filePath: path.join(dir, 'b.json') }).getServerUrl()).toBe(DEFAULT_SERVER_URL);
  });
});
