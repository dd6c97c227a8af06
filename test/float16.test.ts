// float16 features.npy: written by generate (and import, features), read by every stage that reads features, with the
// same results as float32 within the rounding float16 makes (relative 2^-11 per value).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { evaluate, fit, loadDataset, loadSplit, VasgModel, type Split } from '../src/index.js';
import { npyDtype, readNpy } from '../src/data/npy.js';
import { isHalf, widenFeatures } from '../src/data/features.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-f16-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function vasg(...args: string[]): unknown {
  const run = spawnSync(process.execPath, [path.join(root, 'bin/vasg.js'), ...args, '--json'], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
  assert.equal(run.status, 0, `vasg ${args.join(' ')}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** The same generated data set and split, stored as float32 and as float16. */
function prepared(dtype: 'float32' | 'float16'): string {
  const dir = path.join(tmp, dtype);
  if (!fs.existsSync(dir)) {
    vasg('generate', '--preset', 'tiny', '--seed', '2', '--dtype', dtype, '--out', path.join(dir, 'data'));
    vasg('prepare', '--data', path.join(dir, 'data'), '--out', path.join(dir, 'split'));
  }
  return dir;
}

function maxRelative(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]) / Math.max(Math.abs(b[k]), 1e-3));
  return worst;
}

const FAST = { threads: 1, seed: 3 };
const VASG = { ...FAST, dim: 16, hidden: [32], epochs: 1, walksPerNode: 4, rankEpochs: 3, encoderSteps: 100 };

test('generate --dtype float16 writes <f2 at half the bytes; data set and split read back within float16 rounding', () => {
  const [f32, f16] = [prepared('float32'), prepared('float16')];
  for (const part of ['data', 'split']) {
    assert.equal(npyDtype(path.join(f32, part, 'features.npy')), 'float32');
    assert.equal(npyDtype(path.join(f16, part, 'features.npy')), 'float16', `${part}: prepare keeps the storage type`);
    const [full, half] = [f32, f16].map((dir) => fs.statSync(path.join(dir, part, 'features.npy')).size);
    assert.ok(half < full * 0.52, `${part}: ${half} bytes against ${full}`);
  }
  const a = loadDataset(path.join(f32, 'data')).dataset;
  const b = loadDataset(path.join(f16, 'data')).dataset;
  assert.equal(b.featureDtype, 'float16');
  assert.deepEqual(b.itemIds, a.itemIds);
  assert.ok(maxRelative(widenFeatures(b.features).data, widenFeatures(a.features).data) <= 2 ** -11 + 1e-7);
  const split = loadSplit(path.join(f16, 'split'));
  assert.equal(split.featureDtype, 'float16');
  assert.ok(isHalf(split.features), 'a float16 split stays float16 in memory');
  assert.deepEqual(widenFeatures(split.features).data, readNpy(path.join(f16, 'split', 'features.npy')).data);
});

test('train, evaluate, WBOI and VBPR on float16 features match float32 within tolerance', async () => {
  const splits = [prepared('float32'), prepared('float16')].map((dir) => loadSplit(path.join(dir, 'split'))) as [Split, Split];
  // The bar for a speed-up (0.003 AUC); measured differences here are ≤ 0.0001.
  for (const [method, options] of [['vasg', VASG], ['wboi', FAST], ['vbpr', { ...FAST, epochs: 3, latent: 8, visual: 8 }]] as const) {
    const reports = [];
    for (const split of splits) reports.push(await evaluate(await fit(method, split, options), split, { threads: 1, seed: 1 }));
    const [full, half] = reports;
    for (const part of ['warm', 'cold'] as const) {
      assert.ok(Math.abs(full.auc[part] - half.auc[part]) <= 0.003, `${method} ${part} AUC: float32 ${full.auc[part]}, float16 ${half.auc[part]}`);
      assert.ok(Math.abs(full['recall@20'][part] - half['recall@20'][part]) <= 0.01, `${method} ${part} Recall@20: float32 ${full['recall@20'][part]}, float16 ${half['recall@20'][part]}`);
    }
    assert.ok(half.auc.warm > 0.6, `${method} ranks well above chance on float16 features: ${half.auc.warm}`);
  }
});

test('serving\'s encoder path: a model embeds float16 features (vasg embed) as it embeds float32 ones', async () => {
  const [f32, f16] = [prepared('float32'), prepared('float16')];
  const modelDir = path.join(tmp, 'model');
  (await fit('vasg', loadSplit(path.join(f32, 'split')), VASG)).save(modelDir);
  const out = (dtype: string) => path.join(tmp, `embedded-${dtype}.npy`);
  for (const [dtype, dir] of [['float32', f32], ['float16', f16]]) {
    vasg('embed', '--model', modelDir, '--features', path.join(dir, 'split', 'features.npy'), '--ids', path.join(dir, 'split', 'items.csv'), '--out', out(dtype));
  }
  const [full, half] = [readNpy(out('float32')), readNpy(out('float16'))];
  assert.equal(half.rows, full.rows);
  let worst = 0;
  for (let k = 0; k < full.data.length; k++) worst = Math.max(worst, Math.abs(full.data[k] - half.data[k]));
  const scale = Math.max(...Array.from(full.data, Math.abs));
  assert.ok(worst <= 0.01 * scale, `largest difference ${worst} against values up to ${scale}`);
  // And the library path the server's POST /items takes.
  const model = VasgModel.load(modelDir);
  const embedded = await model.embedFeatures(loadSplit(path.join(f16, 'split')).features);
  assert.deepEqual(embedded.data, half.data);
});
