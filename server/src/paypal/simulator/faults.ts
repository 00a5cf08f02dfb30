import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { internalServiceError } from './errors.js';

export type FaultMode = 'status' | 'reset' | 'hang';

export interface FailNextOptions {
  count: number;
  /** HTTP status for mode 'status' (default 500), answered with PayPal's INTERNAL_SERVICE_ERROR body. */
  status?: 500 | 503;
  /** Only requests whose path starts with this; default: every PayPal API call under /v1/. */
  path?: string;
  /** 'status' answers 5xx, 'reset' drops the connection, 'hang' never answers (default 'status'). */
  mode?: FaultMode;
}

export interface FaultRule {
  remaining: number;
  status: 500 | 503;
  path: string;
  mode: FaultMode;
}

/** Injected failures and latency for one simulator instance. */
export class FaultInjector {
  latencyMs = 0;
  private rules: FaultRule[] = [];

  failNext(options: FailNextOptions): void {
    if (!Number.isSafeInteger(options.count) || options.count < 1) throw new RangeError('count must be a positive integer');
    this.rules.push({
      remaining: options.count,
      status: options.status ?? 500,
      path: options.path ?? '/v1/',
      mode: options.mode ?? 'status',
    });
  }

  /** Consumes one use of the first rule matching this request path, if any. */
  take(path: string): FaultRule | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && path.startsWith(r.path));
    if (!rule) return undefined;
    rule.remaining -= 1;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return rule;
  }

  snapshot() {
    return { latencyMs: this.latencyMs, pendingFailures: this.rules.map((r) => ({ ...r })) };
  }

  reset(): void {
    this.latencyMs = 0;
    this.rules = [];
  }
}

/**
 * Applies latency and pending failures to every PayPal-facing request (never to /_sim/*), before
 * authentication — a real outage does not care whether the caller's token is valid.
 */
export function installFaultHook(app: FastifyInstance, faults: FaultInjector, closing: AbortSignal, mountPath = ''): void {
  app.addHook('onRequest', async (request, reply) => {
    // Rules name paths as the simulator knows them, wherever it is mounted.
    const fullPath = request.url.split('?', 1)[0] ?? '';
    const path = mountPath && fullPath.startsWith(`${mountPath}/`) ? fullPath.slice(mountPath.length) : fullPath;
    if (path.startsWith('/_sim/')) return;
    if (faults.latencyMs > 0) {
      try {
        await sleep(faults.latencyMs, undefined, { signal: closing });
      } catch {
        reply.hijack();
        request.raw.destroy();
        return reply;
      }
    }
    const rule = faults.take(path);
    if (!rule) return;
    if (rule.mode === 'status') {
      const error = internalServiceError();
      return reply.code(rule.status).header('paypal-debug-id', error.debugId).send(error.toBody());
    }
    reply.hijack();
    if (rule.mode === 'reset') {
      request.raw.socket.destroy();
      return reply;
    }
    // 'hang' leaves the socket open and silent; closing the simulator destroys it (a server carrying
    // the simulator would otherwise wait for it forever when it closes).
    const socket = request.raw.socket;
    if (closing.aborted) socket.destroy();
    else closing.addEventListener('abort', () => socket.destroy(), { once: true });
    return reply;
  });
}
