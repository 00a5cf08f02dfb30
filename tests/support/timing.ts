/** Waiting in tests: a pause, and a promise that must settle in time or fail naming what it waited for. */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
