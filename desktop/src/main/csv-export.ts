import { randomUUID } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { CsvSaveResult } from '../shared/bridge.js';

export interface SaveDialog {
  /** Resolves to the chosen path, or undefined when the user cancels. */
  chooseCsvPath(defaultPath: string): Promise<string | undefined>;
}

interface OpenExport {
  owner: number;
  finalPath: string;
  partialPath: string;
  file: FileHandle;
  bytes: number;
  /** Writes are chained so chunks land in the order they were sent, even if the sender did not await. */
  queue: Promise<void>;
  failed: Error | undefined;
}

/** One chunk over IPC; the renderer sends the stream in pieces far smaller than this. */
export const MAX_CSV_CHUNK_CHARS = 8 * 1024 * 1024;

/** Keeps file names to something every filesystem accepts, always ending in .csv. */
export function safeCsvFileName(suggested: string): string {
  const base = path.basename(String(suggested)).replace(/[^\w.\- ]+/g, '_').replace(/^[.\s]+/, '').slice(0, 120);
  const name = base || 'orders';
  return name.toLowerCase().endsWith('.csv') ? name : `${name}.csv`;
}

/**
 * The main-process side of "Export CSV": the renderer streams the server's CSV chunks here and
 * they are appended to a `.part` file beside the chosen path, renamed into place only when complete.
 * Each export belongs to the webContents that began it (`owner`); others cannot write to it.
 */
export function createCsvExports(options: { dialog: SaveDialog; defaultDir: string }) {
  const exports = new Map<string, OpenExport>();

  function owned(owner: number, streamId: unknown): OpenExport {
    const entry = typeof streamId === 'string' ? exports.get(streamId) : undefined;
    if (!entry || entry.owner !== owner) throw new Error('no such CSV export in progress');
    return entry;
  }

  async function discard(streamId: string, entry: OpenExport) {
    exports.delete(streamId);
    await entry.queue.catch(() => undefined);
    await entry.file.close().catch(() => undefined);
    await rm(entry.partialPath, { force: true });
  }

  return {
    async begin(owner: number, suggestedName: unknown): Promise<string | null> {
      const fileName = safeCsvFileName(typeof suggestedName === 'string' ? suggestedName : 'orders.csv');
      const chosen = await options.dialog.chooseCsvPath(path.join(options.defaultDir, fileName));
      if (!chosen) return null;
      const streamId = randomUUID();
      const partialPath = `${chosen}.${streamId.slice(0, 8)}.part`;
      const file = await open(partialPath, 'wx', 0o644);
      exports.set(streamId, { owner, finalPath: chosen, partialPath, file, bytes: 0, queue: Promise.resolve(), failed: undefined });
      return streamId;
    },

    async write(owner: number, streamId: unknown, chunk: unknown): Promise<void> {
      const entry = owned(owner, streamId);
      if (typeof chunk !== 'string') throw new TypeError('a CSV chunk must be a string');
      if (chunk.length > MAX_CSV_CHUNK_CHARS) throw new RangeError('CSV chunk too large');
      const bytes = Buffer.from(chunk, 'utf8');
      entry.queue = entry.queue.then(async () => {
        if (entry.failed) return;
        try {
          await entry.file.write(bytes);
          entry.bytes += bytes.length;
        } catch (error) {
          entry.failed = error as Error;
        }
      });
      await entry.queue;
      if (entry.failed) throw entry.failed;
    },

    async finish(owner: number, streamId: unknown): Promise<CsvSaveResult> {
      const entry = owned(owner, streamId);
      exports.delete(streamId as string);
      await entry.queue;
      try {
        if (entry.failed) throw entry.failed;
        await entry.file.sync();
        await entry.file.close();
        await rename(entry.partialPath, entry.finalPath);
      } catch (error) {
        await entry.file.close().catch(() => undefined);
        await rm(entry.partialPath, { force: true });
        throw error;
      }
      return { filePath: entry.finalPath, bytes: entry.bytes };
    },

    async abort(owner: number, streamId: unknown): Promise<void> {
      const entry = owned(owner, streamId);
      await discard(streamId as string, entry);
    },

    /** A window that goes away mid-export leaves no partial file behind. */
    async abortAllOf(owner: number): Promise<void> {
      await Promise.all([...exports].filter(([, entry]) => entry.owner === owner).map(([id, entry]) => discard(id, entry)));
    },

    get inProgress(): number {
      return exports.size;
    },
  };
}

export type CsvExports = ReturnType<typeof createCsvExports>;
