import { readFile, rm } from 'node:fs/promises';
import type { SafeStorage } from 'electron';
import { isMissingFile, writeFileAtomic } from './atomic-file.js';

export type SafeStorageApi = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'>;

export interface TokenStore {
  get(): Promise<string | null>;
  /** Returns where the token now lives: the encrypted file, or memory only when no keychain is available. */
  set(token: string): Promise<'encrypted-file' | 'memory'>;
  clear(): Promise<void>;
}

const MAX_TOKEN_LENGTH = 4096;

/**
 * The staff session token, encrypted with the OS keychain (safeStorage) in a file under userData.
 * Where the only "encryption" on offer is Chromium's hard-coded key (Linux without a secret
 * service: backend `basic_text`), the token is kept in memory only: a file anyone could decrypt
 * is not worth writing.
 */
export function createTokenStore(options: { safeStorage: SafeStorageApi; filePath: string; platform: NodeJS.Platform }): TokenStore {
  const { safeStorage, filePath, platform } = options;
  let inMemory: string | null = null;

  const canPersist = () =>
    safeStorage.isEncryptionAvailable() && !(platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text');

  return {
    async get() {
      if (inMemory !== null) return inMemory;
      if (!canPersist()) return null;
      let encrypted: Buffer;
      try {
        encrypted = await readFile(filePath);
      } catch (error) {
        if (isMissingFile(error)) return null;
        throw error;
      }
      try {
        inMemory = safeStorage.decryptString(encrypted);
        return inMemory;
      } catch {
        // Encrypted under another keychain or user: useless, and staff simply log in again.
        await rm(filePath, { force: true });
        return null;
      }
    },
    async set(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw new TypeError('a session token must be a non-empty string');
      }
      inMemory = token;
      if (!canPersist()) {
        await rm(filePath, { force: true });
        return 'memory';
      }
      await writeFileAtomic(filePath, safeStorage.encryptString(token));
      return 'encrypted-file';
    },
    async clear() {
      inMemory = null;
      await rm(filePath, { force: true });
    },
  };
}
