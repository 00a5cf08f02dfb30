import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/*
 * What `npm start` loads before any mode is chosen: the static import graph of main.ts, each file
 * compiled as the build compiles it (verbatimModuleSyntax: `import type` disappears, any other
 * import stays, even `import { type X }`). Development and test tooling must be reachable only
 * through an `await import()` behind its mode.
 */

const SRC = path.dirname(fileURLToPath(import.meta.url));
const SHARED_ENTRY = path.resolve(SRC, '../../shared/src/index.ts');

/** Files and packages production must not load unless that mode is chosen. */
const FORBIDDEN: { what: string; test: (node: string) => boolean }[] = [
  { what: 'the PayPal simulator', test: (node) => node.startsWith(path.join(SRC, 'paypal/simulator') + path.sep) },
  { what: 'the embedded PostgreSQL launcher', test: (node) => node === path.join(SRC, 'db/embedded-postgres.ts') },
  { what: 'the test harness', test: (node) => node.startsWith(path.join(SRC, 'testing') + path.sep) },
  { what: 'the demo shop (simulator mode only)', test: (node) => node.startsWith(path.join(SRC, 'demo') + path.sep) },
  { what: 'a test file', test: (node) => node.endsWith('.test.ts') },
  { what: 'a development package', test: (node) => /^(vitest|@vitest\/|vite$|embedded-postgres$|@embedded-postgres\/|tsx$|fast-check$|typescript$)/.test(node) },
];

interface ModuleImports {
  /** Static `import … from` / `export … from` that survive compilation. */
  static: string[];
  /** `import('…')` with a literal specifier. */
  dynamic: string[];
}

function importsOf(file: string): ModuleImports {
  const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023, verbatimModuleSyntax: true },
  });
  const source = ts.createSourceFile(file.replace(/\.ts$/, '.js'), outputText, ts.ScriptTarget.ES2023, true, ts.ScriptKind.JS);
  const found: ModuleImports = { static: [], dynamic: [] };
  for (const statement of source.statements) {
    if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
      found.static.push(statement.moduleSpecifier.text);
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      found.dynamic.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** A source file for a relative or workspace specifier; a bare package stays its name. */
function resolve(from: string, specifier: string): string {
  if (specifier === '@orders/shared') return SHARED_ENTRY;
  if (!specifier.startsWith('.')) return specifier.startsWith('node:') ? specifier : specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  const target = path.resolve(path.dirname(from), specifier);
  for (const candidate of [target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'), `${target}.ts`, target]) {
    if (existsSync(candidate) && candidate.match(/\.tsx?$/)) return candidate;
  }
  throw new Error(`${path.relative(SRC, from)}: cannot resolve ${specifier}`);
}

/** Every node statically reachable from `entry`, each with the chain that reaches it. */
function staticGraph(entry: string): Map<string, string[]> {
  const reached = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const specifier of importsOf(file).static) {
      const node = resolve(file, specifier);
      if (reached.has(node)) continue;
      reached.set(node, [...reached.get(file)!, node]);
      if (path.isAbsolute(node)) queue.push(node);
    }
  }
  return reached;
}

const show = (chain: string[]) => chain.map((node) => (path.isAbsolute(node) ? path.relative(SRC, node) : node)).join(' → ');

describe('the production import graph (main.ts, static imports only)', () => {
  const graph = staticGraph(path.join(SRC, 'main.ts'));

  it('holds the server itself (the walk follows every static import)', () => {
    for (const file of ['server.ts', 'config.ts', 'db/orm.ts', 'http/app.ts', 'paypal/setup.ts', 'paypal/paypal-rest-gateway.ts', 'jobs/queue.ts', 'db/embedded-postgres-types.ts']) {
      expect(graph.has(path.join(SRC, file)), file).toBe(true);
    }
    expect(graph.has(SHARED_ENTRY)).toBe(true);
    expect(graph.has('fastify')).toBe(true);
  });

  it.each(FORBIDDEN.map((f) => [f.what, f] as const))('reaches no %s', (_what, forbidden) => {
    const reachable = [...graph.entries()].filter(([node]) => forbidden.test(node)).map(([, chain]) => show(chain));
    expect(reachable).toEqual([]);
  });

  it('loads the simulator and the embedded launcher only through `await import()` in their mode', () => {
    expect(importsOf(path.join(SRC, 'paypal/setup.ts')).dynamic).toContain('./simulator/index.js');
    expect(importsOf(path.join(SRC, 'server.ts')).dynamic).toContain('./db/embedded-postgres.js');
  });

  it('sees a static import as the build does: `import { type X }` is kept, `import type` is not', () => {
    const dir = path.join(SRC, 'paypal');
    expect(importsOf(path.join(dir, 'setup.ts')).static).not.toContain('./simulator/index.js');
    const kept = ts.transpileModule("import { type A } from './a.js';\nimport type { B } from './b.js';\nexport type { C } from './c.js';\n", {
      compilerOptions: { module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
    }).outputText;
    expect(kept).toContain("'./a.js'");
    expect(kept).not.toContain("'./b.js'");
    expect(kept).not.toContain("'./c.js'");
  });
});
