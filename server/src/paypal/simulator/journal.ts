/** The kinds of simulator state that outlive a process when a journal keeps them. */
export const RECORD_KINDS = [
  'account',
  'payment',
  'sale',
  'refund',
  'access_token',
  'idempotent_response',
  'ipn_message',
  'webhook',
  'webhook_message',
] as const;

export type RecordKind = (typeof RECORD_KINDS)[number];

/** Every saved record of each kind, in the order each was first saved. */
export type JournalContents = Record<RecordKind, { id: string; body: unknown }[]>;

/**
 * Where a simulator writes down each change to its state. The simulator works on its in-memory copy
 * (so its control API stays synchronous for tests) and tells the journal every change, in order.
 * The default keeps nothing: a standalone simulator forgets everything when it stops, as it always did.
 */
export interface SimulatorJournal {
  save(kind: RecordKind, id: string, body: unknown): void;
  /** Forgets every record of these kinds (a reset). */
  clear(kinds: readonly RecordKind[]): void;
  /** Resolves once everything saved or cleared so far is durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export const memoryOnlyJournal: SimulatorJournal = {
  save: () => {},
  clear: () => {},
  flush: async () => {},
  close: async () => {},
};

export const emptyContents = (): JournalContents =>
  Object.fromEntries(RECORD_KINDS.map((kind) => [kind, []])) as unknown as JournalContents;
