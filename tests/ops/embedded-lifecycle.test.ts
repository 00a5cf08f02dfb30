import { existsSync, readFileSync, statSync } from 'node:fs';
import { chown, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersClient } from '@orders/shared';
import { freePort } from '@orders/server/db/embedded-postgres.ts';
import { ROOT, killGroup, launch, readyz, sleep, waitReady, within, type Launched } from './support.ts';

/*
 * The embedded PostgreSQL as an operator meets it, through `npm start`'s command in its own process:
 * in a private (0700) folder — as root here in CI, so PostgreSQL must not need to reach it as
 * another user —; a second server refused; PostgreSQL killed under a running server (restarted);
 * the server SIGKILLed (the next start stops the PostgreSQL it left and starts cleanly); PostgreSQL
 * that cannot come back (one line, exit 1); Ctrl-C at the end.
 */

const KEY = 'ops-lifecycle-service-key-0123456789';
const STACK_LINE = /^\s+at .+\(.*:\d+:\d+\)$/m;
let dataDir: string;
const launched: Launched[] = [];
const postmasterPid = () => Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function start(env: Record<string, string> = {}): Promise<Launched> {
  const server = launch(await freePort(), { DATA_DIR: dataDir, BOOTSTRAP_SERVICE_API_KEY: KEY, ...env });
  launched.push(server);
  return server;
}

beforeAll(async () => {
  // mkdtemp makes a 0700 folder, like a root home or a private checkout; it is left so.
  dataDir = await mkdtemp(path.join(tmpdir(), 'orders-ops-lifecycle-'));
});

afterAll(async () => {
  for (const server of launched) await killGroup(server);
  const lock = path.join(dataDir, 'postgres', 'postmaster.pid');
  if (existsSync(lock)) {
    try {
      process.kill(postmasterPid(), 'SIGQUIT');
    } catch {
      // gone
    }
  }
  await rm(dataDir, { recursive: true, force: true });
});

describe('embedded PostgreSQL owned by the running server', { timeout: 120_000 }, () => {
  let first: Launched;

  it('starts in a 0700 folder and /readyz reports every part ready', async () => {
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    first = await start();
    const ready = await waitReady(first);
    expect(ready.body).toMatchObject({
      status: 'ready',
      checks: { database: { status: 'ok' }, jobQueue: { status: 'ok' }, liveFeed: { status: 'ok' }, paypal: { status: 'ok', mode: 'simulator' } },
    });
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    const orders = createOrdersClient({ url: `${first.url}/trpc`, apiKey: KEY });
    await orders.catalog.upsertProduct.mutate({ sku: 'OPS-1', name: 'Kept', unitPrice: 700, currency: 'EUR', stock: 3 });
  });

  it('a second server on the same DATA_DIR is refused in one line naming the first; the first keeps serving', async () => {
    const second = await start();
    const { code } = await within(second.exited, 30_000, 'the second server exiting');
    expect(code).not.toBe(0);
    expect(second.stderr()).toMatch(new RegExp(`already using .*\\(pid ${first.child.pid}\\)|\\(pid ${first.child.pid}\\) is already using`));
    expect(second.output()).not.toMatch(STACK_LINE);
    expect((await readyz(first.url)).status).toBe(200);
  });

  it('PostgreSQL killed under the server: restarted, /healthz stays 200, /readyz comes back, data kept, the outage told in a few lines', async () => {
    const before = postmasterPid();
    const healthz: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        healthz.push(await fetch(`${first.url}/healthz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => 0));
        await sleep(200);
      }
    })();
    process.kill(before, 'SIGKILL');
    const restarted = () => {
      try {
        return postmasterPid() !== before;
      } catch {
        return false;
      }
    };
    // Until the new postmaster is up and every part reconnected.
    await within(
      (async () => {
        while (!restarted() || (await readyz(first.url)).status !== 200) await sleep(200);
      })(),
      60_000,
      'PostgreSQL restarted and /readyz 200',
    );
    // Steady for a while: the job queue has polled through the new PostgreSQL.
    await sleep(3_000);
    sampling = false;
    await sampler;
    expect(first.alive(), first.output()).toBe(true);
    expect(alive(postmasterPid())).toBe(true);
    expect(healthz.every((s) => s === 200), JSON.stringify(healthz)).toBe(true);
    expect(first.lines('embedded PostgreSQL exited unexpectedly')).toHaveLength(1);
    expect(first.lines('embedded PostgreSQL restarted')).toHaveLength(1);
    // Before: about ten "job queue error" lines a second for as long as it lasted.
    expect(first.lines('job queue error').length, first.output()).toBeLessThanOrEqual(3);
    const orders = createOrdersClient({ url: `${first.url}/trpc`, apiKey: KEY });
    const cart = await orders.carts.create.mutate({ customer: { type: 'anonymous', id: 'ops' } });
    const withItem = await orders.carts.setItem.mutate({ customer: { type: 'anonymous', id: 'ops' }, cartId: cart.id, sku: 'OPS-1', quantity: 1 });
    expect(withItem.lines[0]).toMatchObject({ sku: 'OPS-1', name: 'Kept' });
  });

  let third: Launched;

  it('after a SIGKILL of the server, the next start stops the PostgreSQL it left behind and starts cleanly', async () => {
    const orphan = postmasterPid();
    first.child.kill('SIGKILL');
    await first.exited;
    await sleep(500);
    expect(alive(orphan), 'the killed server left its PostgreSQL running').toBe(true);
    third = await start();
    await waitReady(third);
    expect(alive(orphan)).toBe(false);
    expect(postmasterPid()).not.toBe(orphan);
    expect(third.lines('stopped the embedded PostgreSQL a killed server had left running')).toHaveLength(1);
    const orders = createOrdersClient({ url: `${third.url}/trpc`, apiKey: KEY });
    const cart = await orders.carts.create.mutate({ customer: { type: 'anonymous', id: 'ops-2' } });
    const withItem = await orders.carts.setItem.mutate({ customer: { type: 'anonymous', id: 'ops-2' }, cartId: cart.id, sku: 'OPS-1', quantity: 1 });
    expect(withItem.lines[0]).toMatchObject({ sku: 'OPS-1' });
  });

  it('PostgreSQL that cannot be restarted: one clear line and a non-zero exit, for a supervisor to restart everything', async () => {
    const version = path.join(dataDir, 'postgres', 'PG_VERSION');
    await rename(version, `${version}.away`);
    try {
      process.kill(postmasterPid(), 'SIGKILL');
      const { code } = await within(third.exited, 60_000, 'the server giving up');
      expect(code).toBe(1);
      const fatal = third.lines('could not be restarted');
      expect(fatal, third.output()).toHaveLength(1);
      expect(fatal[0]).toMatch(/exiting so that a supervisor restarts the server/);
      expect(third.output()).not.toMatch(STACK_LINE);
    } finally {
      await rename(`${version}.away`, version);
    }
  });

  it('Ctrl-C while the server is still starting: it finishes starting, stops in order and exits 0', async () => {
    const early = await start();
    const deadline = Date.now() + 60_000;
    while (early.lines('embedded PostgreSQL started').length === 0) {
      if (!early.alive() || Date.now() > deadline) throw new Error(`no PostgreSQL start line:\n${early.output()}`);
      await sleep(20);
    }
    process.kill(-early.child.pid!, 'SIGINT');
    expect(await within(early.exited, 30_000, 'exit after an early Ctrl-C'), early.output()).toEqual({ code: 0, signal: null });
    expect(early.lines('stopping')).toHaveLength(1);
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('the next start works again, and Ctrl-C (SIGINT to the process group) stops it with exit 0, PostgreSQL included', async () => {
    const last = await start();
    await waitReady(last);
    process.kill(-last.child.pid!, 'SIGINT');
    const exit = await within(last.exited, 15_000, 'exit after Ctrl-C');
    expect(exit, last.output()).toEqual({ code: 0, signal: null });
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });
});

/** Whether another user can reach the checkout at all (a clone under a 0700 home cannot be run by anyone else). */
function checkoutReachableByOthers(): boolean {
  for (let dir = path.resolve(ROOT); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === path.dirname(dir)) return true;
  }
}

const asOrdinaryUser = process.getuid?.() === 0 && checkoutReachableByOthers();
if (process.getuid?.() === 0 && !asOrdinaryUser) console.log('ordinary-user start skipped: the checkout is inside a folder other users cannot enter');

describe.runIf(asOrdinaryUser)('as an ordinary user', { timeout: 90_000 }, () => {
  it('starts with its own private DATA_DIR and stops on SIGINT', async () => {
    const nobody = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((line) => line.split(':'))
      .find((fields) => fields[0] === 'nobody');
    expect(nobody, 'a `nobody` account').toBeDefined();
    const [uid, gid] = [Number(nobody![2]), Number(nobody![3])];
    const own = await mkdtemp(path.join(tmpdir(), 'orders-ops-user-'));
    await chown(own, uid, gid);
    try {
      const server = launch(await freePort(), { DATA_DIR: own, HOME: own }, { uid, gid });
      launched.push(server);
      await waitReady(server);
      process.kill(-server.child.pid!, 'SIGINT');
      expect(await within(server.exited, 15_000, 'exit after SIGINT'), server.output()).toEqual({ code: 0, signal: null });
      expect((await stat(path.join(own, 'postgres'))).uid).toBe(uid);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});
