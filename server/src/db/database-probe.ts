import pg from 'pg';

/**
 * `select 1` on a connection of its own, for the database watch and /readyz. Through the request pool
 * the probe queued behind busy connections: an instance whose connections were all held (slow
 * statements, a lock) read as one whose database was gone, logged "database unreachable" and answered
 * /readyz with 503, so a balancer would take a busy instance out. One client, opened when needed and
 * dropped on any failure or when a probe outlives `timeoutMs`, so the next probe starts afresh.
 */
export class DatabaseProbe {
  private client: pg.Client | undefined;
  private opening: Promise<pg.Client> | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async check(): Promise<void> {
    if (this.closed) throw new Error('stopped');
    const client = this.client ?? (await (this.opening ??= this.open().finally(() => (this.opening = undefined))));
    // A query that never returns would hold the client for ever; ending it fails the query at once.
    const timer = setTimeout(() => this.drop(client), this.timeoutMs);
    try {
      await client.query('select 1');
    } catch (error) {
      this.drop(client);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.timeoutMs });
    // A connection cut while idle (a restart) is an 'error' event: without a listener, a crash.
    client.on('error', () => this.drop(client));
    try {
      await client.connect();
    } catch (error) {
      void client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      throw new Error('stopped');
    }
    this.client = client;
    return client;
  }

  private drop(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    void client.end().catch(() => {});
  }
}
