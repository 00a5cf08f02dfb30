import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { SafeStorageApi } from './token-store.js';

/** A fresh directory per test, removed afterwards. */
export function useTempDir(): () => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'orders-desktop-'));
    made.push(dir);
    return dir;
  };
}

/**
 * Electron's safeStorage, faked at its boundary: a keyed XOR "cipher" is enough to prove the
 * plaintext never reaches the disk and that decrypting needs the same key (the same OS user).
 */
export function fakeSafeStorage(options: { available?: boolean; backend?: ReturnType<SafeStorageApi['getSelectedStorageBackend']>; key?: number } = {}): SafeStorageApi {
  const key = options.key ?? 0x5a;
  const magic = Buffer.from('v10');
  return {
    isEncryptionAvailable: () => options.available ?? true,
    getSelectedStorageBackend: () => options.backend ?? 'gnome_libsecret',
    encryptString: (plain: string) => Buffer.concat([magic, Buffer.from(plain, 'utf8').map((byte) => byte ^ key)]),
    decryptString: (encrypted: Buffer) => {
      if (!encrypted.subarray(0, 3).equals(magic)) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      const plain = Buffer.from(encrypted.subarray(3).map((byte) => byte ^ key)).toString('utf8');
      if (!/^[\x20-\x7e]*$/.test(plain)) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return plain;
    },
  };
}
