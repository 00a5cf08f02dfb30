import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeSafeStorage, useTempDir } from './test-support.js';
import { createTokenStore } from './token-store.js';

const TOKEN = 'oss_3kJ9xQ0pLmN2vB7cR5tY8wZ1aS4dF6gH';

describe('token store (safeStorage)', () => {
  const tempDir = useTempDir();

  it('round-trips the token through an encrypted, owner-only file that survives a restart', async () => {
    const filePath = path.join(await tempDir(), 'session-token.bin');
    const first = createTokenStore({ safeStorage: fakeSafeStorage(), filePath, platform: 'linux' });
    expect(await first.get()).toBeNull();
    expect(await first.set(TOKEN)).toBe('encrypted-file');
    const onDisk = await readFile(filePath);
    expect(onDisk.includes(Buffer.from(TOKEN))).toBe(false);
    expect((await stat(filePath)).mode & 0o777).toBe(0o600);

    const afterRestart = createTokenStore({ safeStorage: fakeSafeStorage(), filePath, platform: 'linux' });
    expect(await afterRestart.get()).toBe(TOKEN);
    await afterRestart.clear();
    expect(await afterRestart.get()).toBeNull();
    await expect(stat(filePath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps the token in memory only when the keychain is unavailable or only "basic_text"', async () => {
    for (const safeStorage of [fakeSafeStorage({ available: false }), fakeSafeStorage({ backend: 'basic_text' })]) {
      const filePath = path.join(await tempDir(), 'session-token.bin');
      const store = createTokenStore({ safeStorage, filePath, platform: 'linux' });
      expect(await store.set(TOKEN)).toBe('memory');
      expect(await store.get()).toBe(TOKEN);
      await expect(stat(filePath)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await createTokenStore({ safeStorage, filePath, platform: 'linux' }).get()).toBeNull();
    }
  });

  it('forgets a file it cannot decrypt (another user, another keychain)', async () => {
    const filePath = path.join(await tempDir(), 'session-token.bin');
    await createTokenStore({ safeStorage: fakeSafeStorage({ key: 0x11 }), filePath, platform: 'darwin' }).set(TOKEN);
    const other = createTokenStore({ safeStorage: fakeSafeStorage({ key: 0x77 }), filePath, platform: 'darwin' });
    await writeFile(filePath, Buffer.from('garbage'));
    expect(await other.get()).toBeNull();
    await expect(stat(filePath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses what is not a token', async () => {
    const store = createTokenStore({ safeStorage: fakeSafeStorage(), filePath: path.join(await tempDir(), 't.bin'), platform: 'linux' });
    await expect(store.set('')).rejects.toThrow(TypeError);
    await expect(store.set(42 as unknown as string)).rejects.toThrow(TypeError);
    await expect(store.set('x'.repeat(5000))).rejects.toThrow(TypeError);
  });
});
