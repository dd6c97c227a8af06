// Production training: a whole data set in the standard layout, every interaction trained on, every catalogue
// product in the model (never-bought ones as cold products embedded by the encoder); a prepared split as before.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { generate } from '../src/data/generate.js';
import { writeDataset } from '../src/data/dataset.js';
import { prepareSplit, writeSplit } from '../src/data/split.js';
import { loadTrainingData, productionSplit } from '../src/data/production.js';
import { gatherRows } from '../src/model/matrix.js';
import { train } from '../src/index.js';
import type { Dataset } from '../src/data/types.js';
import { InputError } from '../src/errors.js';
import { gatherFeatures } from '../src/data/features.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-production-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const bin = path.resolve('bin/vasg.js');
const trainFlags = ['--threads', '1', '--dim', '16', '--epochs', '1', '--rank-epochs', '2'];
const config = { threads: 1, dim: 16, epochs: 1, rankEpochs: 2, seed: 1 };

/** `tiny` with every interaction of each 15th product removed: those products are in the catalogue, never bought. */
function withUnboughtProducts(): { dataset: Dataset; unbought: string[] } {
  const dataset = generate('tiny', 4);
  const keep = Array.from(dataset.interactions.items.keys()).filter((k) => dataset.interactions.items[k] % 15 !== 0);
  const { users, items, ratings, timestamps } = dataset.interactions;
  dataset.interactions = {
    users: Int32Array.from(keep, (k) => users[k]),
    items: Int32Array.from(keep, (k) => items[k]),
    ratings: Float32Array.from(keep, (k) => ratings[k]),
    timestamps: Float64Array.from(keep, (k) => timestamps[k]),
  };
  return { dataset, unbought: dataset.itemIds.filter((_, i) => i % 15 === 0) };
}

function vasg(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
}

test('train(dataset): the whole catalogue, never-bought products cold with the encoder\'s embeddings, and recommended', async () => {
  const { dataset, unbought } = withUnboughtProducts();
  const { model } = await train(dataset, { config });
  const { itemIds, cold, items } = model.parts;
  assert.deepEqual(itemIds, dataset.itemIds, 'every catalogue product, in catalogue order');
  assert.deepEqual(itemIds.filter((_, i) => cold[i]), unbought, 'cold = exactly the never-bought products');
  const coldRows = unbought.map((id) => dataset.itemIds.indexOf(id));
  const stored = gatherRows(items, coldRows);
  assert.ok(stored.every(Number.isFinite));
  const embedded = await model.embedFeatures({ data: gatherFeatures(dataset.features, coldRows), rows: coldRows.length, cols: dataset.features.cols });
  for (let k = 0; k < stored.length; k++) assert.ok(Math.abs(embedded.data[k] - stored[k]) < 1e-5, `cold value ${k}: ${stored[k]} vs encoder ${embedded.data[k]}`);

  const user = model.parts.userIds[0];
  const all = await model.recommend(user, itemIds.length);
  const recommendedCold = all.filter((r) => r.cold).map((r) => r.itemId).sort();
  assert.deepEqual(recommendedCold, [...unbought].sort(), 'every cold product is recommendable, marked cold');
  assert.ok((await model.recommend(user, itemIds.length, { includeCold: false })).every((r) => !r.cold));
  // Users whose only purchases were of the now unbought products have nothing to learn from and are left out.
  const split = productionSplit(dataset);
  assert.equal(split.userIds.length + split.summary.filtered.usersWithoutInteractions, dataset.userIds.length);
  assert.deepEqual(model.parts.userIds, split.userIds);
  assert.equal(split.summary.trainPairs, dataset.interactions.users.length, 'nothing held out');
});

test('vasg train --data: detects a data set (production) or a prepared split (evaluation) and reports which', () => {
  const { dataset, unbought } = withUnboughtProducts();
  const dataDir = path.join(root, 'data');
  writeDataset(dataDir, dataset);
  const run = vasg(['train', '--data', dataDir, '--out', path.join(root, 'model'), '--json', ...trainFlags]);
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { data: Record<string, unknown> };
  assert.equal(summary.data.layout, 'dataset');
  assert.equal(summary.data.items, dataset.itemIds.length);
  assert.equal(summary.data.coldItems, unbought.length);
  assert.equal(summary.data.trainPairs, dataset.interactions.users.length);
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'model', 'manifest.json'), 'utf8')) as { items: string[]; coldItems: number[]; info: { layout: string } };
  assert.deepEqual(manifest.items, dataset.itemIds);
  assert.deepEqual(manifest.coldItems.map((i) => manifest.items[i]), unbought);
  assert.equal(manifest.info.layout, 'dataset');

  const split = prepareSplit(dataset, { seed: 1 });
  writeSplit(path.join(root, 'split'), split);
  const text = vasg(['train', '--data', path.join(root, 'split'), '--out', path.join(root, 'split-model'), ...trainFlags]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`\\(prepared split\\): ${split.userIds.length} users, ${split.itemIds.length} products \\(${split.summary.warmItems} bought, ${split.summary.coldItems} cold, held out\\)`));
  const splitManifest = JSON.parse(fs.readFileSync(path.join(root, 'split-model', 'manifest.json'), 'utf8')) as { items: string[]; info: { layout: string } };
  assert.deepEqual(splitManifest.items, split.itemIds);
  assert.equal(splitManifest.info.layout, 'split');

  const empty = path.join(root, 'empty');
  fs.mkdirSync(empty);
  const neither = vasg(['train', '--data', empty, '--out', path.join(root, 'm2'), ...trainFlags]);
  assert.notEqual(neither.status, 0);
  assert.match(neither.stderr, /expected a prepared split \(summary\.json.*or a data set in the standard layout \(interactions\.csv, items\.csv, features\.npy\); found neither/);
});

test('production training validates its input as prepare does', () => {
  const dir = path.join(root, 'bad');
  const dataset = generate('tiny', 5);
  writeDataset(dir, dataset);
  const lines = fs.readFileSync(path.join(dir, 'interactions.csv'), 'utf8').split('\n');
  // A negative rating on data line 3: named by file, line and field.
  const cells = lines[3].split(',');
  cells[2] = '-1';
  lines[3] = cells.join(',');
  fs.writeFileSync(path.join(dir, 'interactions.csv'), lines.join('\n'));
  assert.throws(() => loadTrainingData(dir), /interactions\.csv:4.*rating.*expected a rating in \[0, 1e\+30\], found -1/);
  // Header only: nothing to train on.
  fs.writeFileSync(path.join(dir, 'interactions.csv'), lines[0] + '\n');
  assert.throws(() => loadTrainingData(dir), (e: Error) => e instanceof InputError && /has no interactions/.test(e.message));
  // One bought product cannot be ranked against another.
  const one = { ...dataset, interactions: { users: Int32Array.of(0, 1), items: Int32Array.of(7, 7), ratings: Float32Array.of(1, 1), timestamps: Float64Array.of(NaN, NaN) } };
  assert.throws(() => productionSplit(one), /train: only 1 product\(s\) left for training; at least 2 are needed to rank/);
});
