// `vasg serve --features-model builtin:color`: POST /items takes a product image (base64) instead of a
// feature vector, turned into features by the same extractor `vasg features` uses, on a model trained on
// builtin:color features of rendered product images (as `vasg generate --images` draws them).
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { generate, prepareSplit, train, VasgModel } from '../src/index.js';
import { generateWithStyles } from '../src/data/generate.js';
import { renderProductImages } from '../src/data/images.js';
import { BUILTIN_COLOR, colorExtractor } from '../src/features/extractors.js';
import { COLOR_FEATURE_DIM } from '../src/features/color.js';
import { silentProgress } from '../src/progress.js';
import { Catalog } from '../src/serve/catalog.js';
import { buildServer } from '../src/serve/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'vasg-serve-images-'));
let app: FastifyInstance;
let base = '';
let pngs: Buffer[] = [];
let itemIds: string[] = [];
let coldId = '';

before(async () => {
  const { dataset, styles } = generateWithStyles('tiny', 1);
  pngs = await renderProductImages(styles, 1, silentProgress);
  const rows = await colorExtractor().extract(pngs);
  const data = new Float32Array(rows.length * COLOR_FEATURE_DIM);
  rows.forEach((row, i) => data.set(row as Float32Array, i * COLOR_FEATURE_DIM));
  itemIds = dataset.itemIds;
  const split = prepareSplit({ ...dataset, features: { data, rows: rows.length, cols: COLOR_FEATURE_DIM } }, { seed: 1 });
  // Cosine scoring: the same image embeds to the same direction, so a product's twin comes first with score 1.
  const { model } = await train(split, { config: { threads: 1, seed: 1, dim: 16, epochs: 1, scoring: 'cosine' } });
  coldId = model.parts.itemIds[model.parts.cold.indexOf(1)];
  model.save(path.join(dir, 'model'));
  app = await buildServer(new Catalog(VasgModel.load(path.join(dir, 'model'))), { imageFeatures: { name: BUILTIN_COLOR, extractor: colorExtractor() } });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function post(url: string, body: unknown, at = base): Promise<{ status: number; json: any }> {
  const response = await fetch(at + url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

const imageOf = (id: string) => pngs[itemIds.indexOf(id)].toString('base64');

test('healthz names the features model', async () => {
  assert.equal((await (await fetch(`${base}/healthz`)).json()).features_model, BUILTIN_COLOR);
});

test('an image is embedded like the product it shows; the same features sent as numbers give the same product', async () => {
  const added = await post('/items', { items: [{ id: 'photo-1', title: 'From a photo', image: imageOf(coldId) }] });
  assert.equal(added.status, 200, JSON.stringify(added.json));
  const similar = (await (await fetch(`${base}/items/photo-1/similar?k=3`)).json()).similar;
  assert.equal(similar[0].id, coldId);
  // Similar products rank in the similar-items space by −d/2 (docs/relations.md): 0 is the product's own place.
  assert.ok(Math.abs(similar[0].score) < 1e-4, `score ${similar[0].score}`);
  const [features] = await colorExtractor().extract([pngs[itemIds.indexOf(coldId)]]);
  await post('/items', { items: [{ id: 'numbers-1', features: Array.from(features as Float32Array) }] });
  const viaNumbers = (await (await fetch(`${base}/items/numbers-1/similar?k=3`)).json()).similar;
  assert.deepEqual(viaNumbers.slice(0, 2).map((s: { id: string }) => s.id).sort(), ['photo-1', coldId].sort());
});

test('images and feature vectors mix in one request; a corrupt image is a 400 naming the item, and nothing is added', async () => {
  const mixed = await post('/items', { items: [{ id: 'mix-a', image: imageOf(itemIds[0]) }, { id: 'mix-b', features: new Array(COLOR_FEATURE_DIM).fill(0.1) }] });
  assert.equal(mixed.status, 200);
  assert.deepEqual(mixed.json.items, ['mix-a', 'mix-b']);
  const corrupt = await post('/items', { items: [{ id: 'ok-1', image: imageOf(itemIds[1]) }, { id: 'broken', image: Buffer.from('not an image at all').toString('base64') }] });
  assert.equal(corrupt.status, 400);
  assert.equal(corrupt.json.field, 'body.items.1.image');
  assert.match(corrupt.json.error, /item "broken"/);
  assert.equal((await fetch(`${base}/items/ok-1`)).status, 404, 'a refused request adds none of its items');
  const both = await post('/items', { items: [{ id: 'both', image: imageOf(itemIds[0]), features: [1] }] });
  assert.equal(both.status, 400);
  assert.match(both.json.error, /not both/);
});

test('without a features model an image is refused, naming the field and the flag', async () => {
  const plain = await buildServer(new Catalog(VasgModel.load(path.join(dir, 'model'))), { webRoot: dir });
  try {
    const at = await plain.listen({ host: '127.0.0.1', port: 0 });
    const refused = await post('/items', { items: [{ id: 'p', image: imageOf(itemIds[0]) }] }, at);
    assert.equal(refused.status, 400);
    assert.equal(refused.json.field, 'body.items.0.image');
    assert.match(refused.json.error, /--features-model/);
    assert.equal((await (await fetch(`${at}/healthz`)).json()).features_model, null);
  } finally {
    await plain.close();
  }
});

test('a features model whose width differs from the model\'s I stops the server at start', async () => {
  const other = path.join(dir, 'other');
  const split = prepareSplit(generate('tiny', 2), { seed: 1 });
  (await train(split, { config: { threads: 1, seed: 1, dim: 8, epochs: 1 } })).model.save(other);
  assert.notEqual(split.features.cols, COLOR_FEATURE_DIM);
  await assert.rejects(buildServer(new Catalog(VasgModel.load(other)), { imageFeatures: { name: BUILTIN_COLOR, extractor: colorExtractor() } }),
    new RegExp(`builtin:color gives ${COLOR_FEATURE_DIM} features per image, but the model's encoder takes I = ${split.features.cols}`));
  const cli = spawnSync(process.execPath, [path.join(root, 'bin/vasg.js'), 'serve', '--model', other, '--port', '0', '--features-model', BUILTIN_COLOR], { encoding: 'utf8' });
  assert.notEqual(cli.status, 0);
  assert.match(cli.stderr, /gives 80 features per image, but the model's encoder takes I = /);
});
