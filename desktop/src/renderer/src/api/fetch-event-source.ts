/**
 * An EventSource over fetch, for tRPC's httpSubscriptionLink. The browser's EventSource cannot send
 * an Authorization header, and a staff token in the URL would end up in access logs; this one sends
 * the same `Authorization: Bearer …` as every other call. It follows the EventSource contract the
 * link relies on: named events, `lastEventId`, `readyState`, reconnect with `Last-Event-ID` after a
 * dropped stream, and a final `error` with readyState CLOSED when the server refuses (non-2xx).
 */
export interface FetchEventSourceInit {
  headers?: Record<string, string>;
  fetch?: typeof globalThis.fetch;
  /** Reconnect delay until the server sends `retry:`. */
  retryMs?: number;
}

type ReadyState = 0 | 1 | 2;

export class FetchEventSource extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSED = 2;
  readonly url: string;
  readonly withCredentials = false;
  readyState: ReadyState = 0;
  /** The HTTP status that closed the stream for good, when the server refused it. */
  failureStatus: number | undefined;

  private readonly headers: Record<string, string>;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly abort = new AbortController();
  private retryMs: number;
  private lastEventId = '';
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(url: string | URL, init: FetchEventSourceInit = {}) {
    super();
    this.url = String(url);
    this.headers = init.headers ?? {};
    this.fetchImpl = init.fetch ?? globalThis.fetch.bind(globalThis);
    this.retryMs = init.retryMs ?? 3000;
    void this.connect();
  }

  close(): void {
    this.readyState = 2;
    clearTimeout(this.reconnectTimer);
    this.abort.abort();
  }

  private async connect(): Promise<void> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.url, {
        headers: { accept: 'text/event-stream', 'cache-control': 'no-cache', ...this.headers, ...(this.lastEventId ? { 'last-event-id': this.lastEventId } : {}) },
        cache: 'no-store',
        signal: this.abort.signal,
      });
    } catch {
      this.scheduleReconnect();
      return;
    }
    if (this.readyState === 2) return;
    const contentType = response.headers.get('content-type') ?? '';
    if (!response.ok || !response.body || !contentType.startsWith('text/event-stream')) {
      this.failureStatus = response.status;
      this.readyState = 2;
      await response.body?.cancel().catch(() => undefined);
      this.dispatchEvent(new Event('error'));
      return;
    }
    this.readyState = 1;
    this.dispatchEvent(new Event('open'));
    try {
      await this.read(response.body);
    } catch {
      // A dropped connection: reconnect below, as EventSource does.
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.readyState === 2) return;
    this.readyState = 0;
    this.dispatchEvent(new Event('error'));
    if (this.readyState === 0) this.reconnectTimer = setTimeout(() => void this.connect(), this.retryMs);
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.pipeThrough(new TextDecoderStream() as ReadableWritablePair<string, Uint8Array>).getReader();
    const parser = createSseParser((message) => {
      if (message.retry !== undefined) this.retryMs = message.retry;
      if (message.id !== undefined) this.lastEventId = message.id;
      if (message.data === undefined || this.readyState === 2) return;
      this.dispatchEvent(new MessageEvent(message.event || 'message', { data: message.data, lastEventId: this.lastEventId, origin: new URL(this.url, 'http://localhost').origin }));
    });
    for (;;) {
      const { value, done } = await reader.read();
      if (done || this.readyState === 2) break;
      parser(value);
    }
  }
}

export interface SseMessage {
  event: string;
  /** Undefined when the block had no data line (nothing to dispatch). */
  data: string | undefined;
  id: string | undefined;
  retry: number | undefined;
}

/** The text/event-stream grammar (HTML §9.2.6): feed it decoded text in any pieces. */
export function createSseParser(onMessage: (message: SseMessage) => void): (text: string) => void {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let retry: number | undefined;

  const dispatch = () => {
    if (data.length > 0 || id !== undefined || retry !== undefined) onMessage({ event, data: data.length > 0 ? data.join('\n') : undefined, id, retry });
    event = '';
    data = [];
    id = undefined;
    retry = undefined;
  };

  const line = (text: string) => {
    if (text === '') return dispatch();
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\u0000')) id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
  };

  return (text) => {
    buffer += text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (!match || (match[0] === '\r' && match.index === buffer.length - 1)) break;
      line(buffer.slice(0, match.index));
      buffer = buffer.slice(match.index + match[0].length);
    }
  };
}
