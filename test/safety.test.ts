import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkOutputDirectory, writeDirectoryAtomic } from '../src/data/atomic.js';
import { encodeNpy } from '../src/data/npy.js';
import { generate } from '../src/data/generate.js';
import { prepareSplit } from '../src/data/split.js';
import { ConfigError, InputError, ModelFormatError, VasgError } from '../src/errors.js';
import { MODEL_FORMAT, MODEL_VERSION, VasgModel } from '../src/model/vasg-model.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-safety-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('saving a non-finite array fails before the commit and leaves the old directory untouched', () => {
  const dir = path.join(root, 'model');
  writeDirectoryAtomic(dir, [['a.npy', encodeNpy({ data: Float32Array.of(1, 2), rows: 1, cols: 2 })]]);
  const before = fs.readFileSync(path.join(dir, 'a.npy'));
  assert.throws(() => writeDirectoryAtomic(dir, [['a.npy', () => encodeNpy({ data: Float32Array.of(1, NaN), rows: 1, cols: 2 })]]),
    (error: Error) => error instanceof ConfigError && error.message.includes(path.join(dir, 'a.npy')) && /row 0, column 1: expected a finite value, found NaN/.test(error.message));
  assert.deepEqual(fs.readFileSync(path.join(dir, 'a.npy')), before);
  assert.deepEqual(fs.readdirSync(root), ['model'], 'no staged or old siblings left behind');
});

test('output directories are checked before any work: unwritable, not a directory, foreign', () => {
  const started = Date.now();
  assert.throws(() => checkOutputDirectory('/proc/vasg-model', 'manifest.json'), (e: Error) => e instanceof ConfigError && /\/proc\/vasg-model: cannot write an output directory here/.test(e.message));
  assert.ok(Date.now() - started < 5000, '/proc fails fast');
  const file = path.join(root, 'plain-file');
  fs.writeFileSync(file, 'x');
  assert.throws(() => checkOutputDirectory(file, 'manifest.json'), /exists and is not a directory/);
  const foreign = path.join(root, 'home');
  fs.mkdirSync(foreign);
  fs.writeFileSync(path.join(foreign, 'thesis.tex'), 'x');
  assert.throws(() => checkOutputDirectory(foreign, 'manifest.json'), /refusing to replace a non-empty directory/);
  const fresh = path.join(root, 'fresh', 'model');
  checkOutputDirectory(fresh, 'manifest.json');
  assert.deepEqual(fs.readdirSync(path.join(root, 'fresh')), [], 'the probe leaves nothing behind');
  fs.rmSync(file);
  fs.rmSync(foreign, { recursive: true });
  fs.rmSync(path.join(root, 'fresh'), { recursive: true });
});

test('a manifest missing a field is a ModelFormatError naming it, not a TypeError', () => {
  const dir = path.join(root, 'broken-model');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ format: MODEL_FORMAT, version: MODEL_VERSION, config: {}, featureDim: 4, items: [], coldItems: [], encoderSizes: [] }));
  assert.throws(() => VasgModel.load(dir), (e: Error) => e instanceof ModelFormatError && e instanceof VasgError && /manifest\.json: field "users" is missing/.test(e.message));
  fs.rmSync(dir, { recursive: true });
});

test('degenerate data stops prepare with a message: all users filtered, header-only, empty catalogue, width-0 features, < 2 products', () => {
  const dataset = generate('tiny', 5);
  assert.throws(() => prepareSplit(dataset, { seed: 1, minInteractions: 1000 }),
    (e: Error) => e instanceof ConfigError && /--min-interactions 1000 removed all \d+ users \(the most active has \d+ interactions\)/.test(e.message));
  const noRows = { ...dataset, interactions: { users: new Int32Array(0), items: new Int32Array(0), ratings: new Float32Array(0), timestamps: new Float64Array(0) } };
  assert.throws(() => prepareSplit(noRows, { seed: 1 }), (e: Error) => e instanceof InputError && /interactions\.csv: has no interactions/.test(e.message));
  assert.throws(() => prepareSplit({ ...dataset, itemIds: [], items: [] }, { seed: 1 }), /items\.csv: the catalogue lists no products/);
  assert.throws(() => prepareSplit({ ...dataset, features: { data: new Float32Array(0), rows: dataset.itemIds.length, cols: 0 } }, { seed: 1 }), /features\.npy: features have width 0/);
  const oneItem = { ...dataset, interactions: { ...dataset.interactions, items: new Int32Array(dataset.interactions.items.length) } };
  assert.throws(() => prepareSplit(oneItem, { seed: 1, minInteractions: 1 }), /only 1 product\(s\) bought/);
});

test('files the new output does not write (decoder_* after --no-decoder) go with the old directory', () => {
  const dir = path.join(root, 'stale');
  writeDirectoryAtomic(dir, [['manifest.json', '{}'], ['decoder_0_W.npy', 'old']]);
  writeDirectoryAtomic(dir, [['manifest.json', '{"v":2}']]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['.vasg-complete', 'manifest.json']);
  fs.rmSync(dir, { recursive: true });
});
