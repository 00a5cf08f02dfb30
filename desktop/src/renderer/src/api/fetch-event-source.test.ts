import { describe, expect, it, vi } from 'vitest';
import { FetchEventSource, createSseParser, type SseMessage } from './fetch-event-source';

describe('createSseParser', () => {
  it('parses events split anywhere, with every line ending, comments, ids and retry', () => {
    const messages: SseMessage[] = [];
    const feed = createSseParser((message) => messages.push(message));
    const stream = ': ping comment\r\nevent: connected\r\ndata: {"a":1}\r\n\r\nid: 7\ndata: line one\ndata:line two\n\nretry: 2500\n\ndata\n\nevent: ping\rdata: \r\r: a lone CR may be half a CRLF, so the last block waits for more\n';
    for (let i = 0; i < stream.length; i += 3) feed(stream.slice(i, i + 3));
    expect(messages).toEqual([
      { event: 'connected', data: '{"a":1}', id: undefined, retry: undefined },
      { event: '', data: 'line one\nline two', id: '7', retry: undefined },
      { event: '', data: undefined, id: undefined, retry: 2500 },
      { event: '', data: '', id: undefined, retry: undefined },
      { event: 'ping', data: '', id: undefined, retry: undefined },
    ]);
  });
});

function sseResponse(chunks: string[], init: ResponseInit = {}) {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' }, ...init });
}

describe('FetchEventSource', () => {
  it('sends the bearer header, dispatches named events and reconnects with Last-Event-ID', async () => {
    const calls: Headers[] = [];
    const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      calls.push(new Headers(init?.headers));
      return calls.length === 1 ? sseResponse(['event: connected\ndata: {}\n\n', 'id: 41\ndata: {"n":1}\n\n']) : sseResponse([': idle\n\n']);
    });
    const source = new FetchEventSource('http://server/trpc/x', { headers: { authorization: 'Bearer t0k' }, fetch, retryMs: 5 });
    const seen: string[] = [];
    source.addEventListener('connected', () => seen.push('connected'));
    source.addEventListener('message', (event) => seen.push(`message ${(event as MessageEvent).data} #${(event as MessageEvent).lastEventId}`));
    source.addEventListener('error', () => seen.push(`error state=${source.readyState}`));
    await vi.waitFor(() => expect(calls.length).toBeGreaterThanOrEqual(2));
    source.close();
    expect(seen.slice(0, 3)).toEqual(['connected', 'message {"n":1} #41', 'error state=0']);
    expect(calls[0]!.get('authorization')).toBe('Bearer t0k');
    expect(calls[0]!.get('accept')).toBe('text/event-stream');
    expect(calls[0]!.has('last-event-id')).toBe(false);
    expect(calls[1]!.get('last-event-id')).toBe('41');
  });

  it('closes for good when the server refuses the stream', async () => {
    const fetch = vi.fn(async () => new Response('{"error":"log in first"}', { status: 401, headers: { 'content-type': 'application/json' } }));
    const source = new FetchEventSource('http://server/trpc/x', { fetch, retryMs: 5 });
    const errored = new Promise((resolve) => source.addEventListener('error', resolve));
    await errored;
    expect(source.readyState).toBe(source.CLOSED);
    expect(source.failureStatus).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});
