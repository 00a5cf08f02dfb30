import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger.js';
import { createTestDatabase } from '../testing/test-database.js';
import { JobQueue, queueErrorKey } from './queue.js';

const pgError = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("pg-boss's errors, told once per failure", () => {
  it('takes one failure met by several workers as one, whatever worker and queue pg-boss names', () => {
    const stopping = [
      pgError('terminating connection due to administrator command', '57P01'),
      pgError('terminating connection due to administrator command (Queue: ipn-process, Worker: b05255d2-fb7c-4e93-87dd-e282048b927f)', '57P01'),
      pgError('terminating connection due to administrator command (Queue: webhook-process, Worker: b32e3767-d2e2-4d33-9510-1a0acb062208)', '57P01'),
    ];
    expect(new Set(stopping.map(queueErrorKey)).size).toBe(1);
  });

  it('keeps different failures apart: another code, another message, a message that only ends in parentheses', () => {
    const keys = [
      pgError('terminating connection due to administrator command (Queue: ipn-process, Worker: 1)', '57P01'),
      pgError('the database system is shutting down (Queue: ipn-process, Worker: 1)', '57P03'),
      pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      pgError('relation "pgboss.job" does not exist (Queue: x)', '42P01'),
    ].map(queueErrorKey);
    expect(new Set(keys).size).toBe(4);
    expect(keys[3]).toContain('(Queue: x)');
  });
});

describe('notification workers', () => {
  it('take what this instance enqueues at once, not at their next poll', async () => {
    const db = await createTestDatabase();
    const queue = await JobQueue.start(db.url, createLogger('silent'), { poolMax: 2 });
    try {
      const processed: string[] = [];
      // A poll a minute: within the wait below, only being woken brings a job to a worker.
      await queue.work({ processIpn: async (eventId) => void processed.push(eventId), sweep: async () => {} }, { pollSeconds: 60 });
      // Every worker's first fetch, at its start, is over by then: the next one would be a minute later.
      await sleep(1_000);
      // One IPN, then a listener's burst larger than a fetch of every worker (10 each), then a restart's re-queue.
      await queue.enqueueIpn('first');
      const burst = Array.from({ length: 45 }, (_, i) => `burst-${i}`);
      await Promise.all(burst.map((id) => queue.enqueueIpn(id)));
      await queue.enqueueIpn('stranded', 'boot-1');
      await vi.waitFor(() => expect(processed.length).toBe(47), { timeout: 10_000, interval: 50 });
      expect(new Set(processed)).toEqual(new Set(['first', ...burst, 'stranded']));
    } finally {
      await queue.stop();
      await db.drop();
    }
  });
});
