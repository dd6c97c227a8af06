// The generator at catalogue scale: features.npy written while it is computed (the same bytes as the in-memory
// path, float32 and float16), and purchases drawn from consideration sets (`candidates`, the `xl` preset's sampler).
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeDataset } from '../src/data/dataset.js';
import { generate, generateStreamed, generateWithStyles, PRESETS, type GenerateOptions } from '../src/data/generate.js';
import type { Dataset } from '../src/data/types.js';

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function filesOf(write: (dir: string) => void): Map<string, Buffer> {
  tempDirs.push(fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-xl-')));
  const dir = tempDirs[tempDirs.length - 1];
  write(dir);
  return new Map(fs.readdirSync(dir).sort().map((name) => [name, fs.readFileSync(path.join(dir, name))]));
}

test('generateStreamed writes byte for byte what generate + writeDataset write, float32 and float16', () => {
  // More than one block of products (1,024 per block), so the stream crosses block boundaries.
  const options: GenerateOptions = { ...PRESETS.tiny, products: 1500, users: 400, ratings: 4000 };
  for (const dtype of ['float32', 'float16'] as const) {
    const inMemory = filesOf((dir) => writeDataset(dir, { ...generate(options, 5), featureDtype: dtype }));
    const streamed = filesOf((dir) => writeDataset(dir, generateStreamed(options, 5, dtype).dataset));
    assert.ok(generate(options, 5).itemIds.length > 1024, 'the data set spans two feature blocks');
    assert.deepEqual([...streamed.keys()], [...inMemory.keys()]);
    for (const [name, bytes] of inMemory) assert.ok(bytes.equals(streamed.get(name)!), `${dtype}: ${name} differs`);
  }
});

/** Mean over purchases of the buyer's true affinity (score less popularity) with the product. */
function meanAffinity(dataset: Dataset): number {
  const { users, items } = dataset.truth!;
  const D = users.cols;
  const { users: u, items: p } = dataset.interactions;
  let sum = 0;
  for (let k = 0; k < u.length; k++) {
    for (let d = 0; d < D - 1; d++) sum += users.data[u[k] * D + d] * items.data[p[k] * D + d];
  }
  return sum / u.length;
}

test('consideration sets: exact counts, distinct pairs, nothing bought before release, and the exact draw\'s taste', () => {
  const exact = generateWithStyles({ ...PRESETS.tiny, candidates: 0 }, 7);
  const considered = generateWithStyles({ ...PRESETS.tiny, candidates: 4096 }, 7);
  const narrow = generateWithStyles({ ...PRESETS.tiny, candidates: 1 }, 7);
  assert.deepEqual(generateWithStyles({ ...PRESETS.tiny, candidates: 4096 }, 7), considered, 'deterministic for a seed');
  for (const { dataset, release } of [considered, narrow]) {
    const { users, items, timestamps } = dataset.interactions;
    const perUser = new Int32Array(dataset.userIds.length);
    for (const u of users) perUser[u]++;
    assert.equal(Array.from(perUser).filter((c) => c >= 5).reduce((s, c) => s + c, 0), PRESETS.tiny.ratings);
    const pairs = new Set(Array.from(users, (u, k) => u * dataset.itemIds.length + items[k]));
    assert.equal(pairs.size, users.length, 'no repeated (user, product) pair');
    for (let k = 0; k < users.length; k++) assert.ok(timestamps[k] >= release[items[k]], `purchase ${k} precedes its product's release`);
  }
  // With a set far larger than the catalogue (≈ 500 products), every product on sale is considered with a
  // multiplicity proportional to its popularity: purchases show the exact draw's affinity. A set of 4 per purchase
  // (the least allowed) is mostly popularity, so its buyers like what they buy much less.
  const [a, b, c] = [exact, considered, narrow].map((g) => meanAffinity(g.dataset));
  assert.ok(Math.abs(b - a) < 0.1 * a, `mean affinity: exact ${a}, consideration sets ${b}`);
  assert.ok(c < 0.75 * a, `mean affinity with 4 candidates per purchase ${c} vs exact ${a}`);
});

test('xl preset: a million products at I = 4096, consideration sets, department-qualified categories', () => {
  const { xl } = PRESETS;
  assert.equal(xl.products, 1_000_000);
  assert.equal(xl.featureDim, 4096);
  assert.equal(xl.ratings, 5_000_000);
  assert.ok(xl.candidates > 0);
  assert.equal(new Set(xl.categories).size, xl.categories.length, 'category names are distinct');
  assert.ok(xl.categories.includes('men/T-Shirts') && xl.categories.includes('jewelry/Rings'));
});
