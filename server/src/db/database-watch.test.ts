import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { DatabaseWatch } from './database-watch.js';

function capture() {
  const lines: { level: number; msg: string; quietErrors?: Record<string, number> }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

describe('DatabaseWatch', () => {
  it('tells an outage once, then a summary per period with what it kept quiet, then the recovery once', async () => {
    const { lines, logger } = capture();
    let up = true;
    const watch = new DatabaseWatch(async () => {
      if (!up) throw new Error('connect ECONNREFUSED');
    }, logger, { summaryEveryMs: 50 });
    expect(await watch.check()).toBe(true);
    expect(lines).toHaveLength(0);

    up = false;
    expect(await watch.check()).toBe(false);
    expect(watch.current.up).toBe(false);
    for (let i = 0; i < 20; i++) expect(watch.absorb('job queue')).toBe(true);
    for (let i = 0; i < 5; i++) await watch.check();
    expect(lines.filter((l) => l.msg.startsWith('database unreachable'))).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'database still unreachable')).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await watch.check();
    const summaries = lines.filter((l) => l.msg === 'database still unreachable');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.quietErrors).toEqual({ 'job queue': 20 });

    up = true;
    expect(await watch.check()).toBe(true);
    await watch.check();
    expect(lines.filter((l) => l.msg === 'database reachable again')).toHaveLength(1);
    expect(watch.current.up).toBe(true);
    // Up again: errors elsewhere are the callers' to log.
    expect(watch.absorb('job queue')).toBe(false);
  });

  it('once stopped (the server is stopping, its database next) tells nothing and absorbs every error', async () => {
    const { lines, logger } = capture();
    let up = true;
    const watch = new DatabaseWatch(async () => {
      if (!up) throw new Error('the database system is shutting down');
    }, logger);
    expect(await watch.check()).toBe(true);
    watch.stop();
    up = false;
    expect(watch.absorb('job queue')).toBe(true);
    expect(await watch.check()).toBe(false);
    expect(lines).toHaveLength(0);
  });
});
