// The layer order of src/, checked over every import statement: a module may import from its own folder
// or from a layer below it, never from a layer above or from a peer folder of its own layer. This keeps
// the model free of the evaluation, the search free of the model class, and so on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bottom to top. Each entry is a layer: the folders (or top-level files) it holds. */
export const LAYERS: readonly string[][] = [
  ['errors.ts', 'progress.ts', 'native.ts'],
  ['data'],
  ['graph', 'features'],
  ['core'],
  ['search'],
  ['model'],
  ['onnx', 'baselines'],
  ['eval'],
  ['methods'],
  ['serve', 'experiments'],
  ['cli'],
  ['index.ts'],
];

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/** The unit of a file: its top-level folder, or the file itself at the top of src/. */
function unitOf(relative: string): string {
  return relative.split('/')[0];
}

function layerOf(unit: string): number {
  const layer = LAYERS.findIndex((units) => units.includes(unit));
  if (layer < 0) throw new Error(`src/${unit} is in no layer: add it to LAYERS in test/layers.test.ts`);
  return layer;
}

/** Relative module specifiers of `import … from`, `export … from`, `import('…')` and side-effect imports. */
export function importsOf(source: string): string[] {
  const found: string[] = [];
  const pattern = /(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"](\.[^'"]+)['"]|import\s*\(\s*['"](\.[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"](\.[^'"]+)['"]/g;
  for (const match of source.matchAll(pattern)) found.push(match[1] ?? match[2] ?? match[3]);
  return found;
}

/** Violations of the order for one file (path relative to src/) importing `specifiers`. */
export function violations(file: string, specifiers: string[]): string[] {
  const from = unitOf(file);
  const out: string[] = [];
  for (const spec of specifiers) {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts');
    const to = unitOf(target);
    if (to === from) continue;
    const [a, b] = [layerOf(from), layerOf(to)];
    if (b > a) out.push(`src/${file} imports src/${target}: ${to} is above ${from}`);
    else if (b === a) out.push(`src/${file} imports src/${target}: ${to} and ${from} are peers (same layer)`);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

test('no module of src/ imports against the layer order', () => {
  const files = sourceFiles(SRC);
  assert.ok(files.length > 50, `found only ${files.length} source files under ${SRC}`);
  const all = files.flatMap((file) => {
    const relative = path.relative(SRC, file).split(path.sep).join('/');
    return violations(relative, importsOf(fs.readFileSync(file, 'utf8')));
  });
  assert.deepEqual(all, []);
});

test('the checker finds upward, peer and dynamic imports', () => {
  const source = [
    "import { x } from '../eval/auc.js';",
    "import type { Y } from './local.js';",
    "export { z } from '../data/types.js';",
    "type T = import('../serve/server.js').Server;",
    "import '../search/exact.js';",
    "import fs from 'node:fs';",
  ].join('\n');
  assert.deepEqual(importsOf(source), ['../eval/auc.js', './local.js', '../data/types.js', '../serve/server.js', '../search/exact.js']);
  assert.deepEqual(violations('model/train.ts', importsOf(source)), [
    'src/model/train.ts imports src/eval/auc.ts: eval is above model',
    'src/model/train.ts imports src/serve/server.ts: serve is above model',
  ]);
  assert.deepEqual(violations('onnx/writer.ts', ['../baselines/bpr.js']), ['src/onnx/writer.ts imports src/baselines/bpr.ts: baselines and onnx are peers (same layer)']);
  assert.throws(() => violations('newfolder/a.ts', ['../data/types.js']), /src\/newfolder is in no layer/);
});
