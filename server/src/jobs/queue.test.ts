import { describe, expect, it } from 'vitest';
import { queueErrorKey } from './queue.js';

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
