import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkOutputDirectory, openWrittenDirectory, writeDirectoryAtomic } from '../src/data/atomic.js';
import zlib from 'node:zlib';
import { encodeNpy } from '../src/data/npy.js';
import { generate } from '../src/data/generate.js';
import { prepareSplit } from '../src/data/split.js';
import { ConfigError, InputError, ModelFormatError, VasgError } from '../src/errors.js';
import { MODEL_FORMAT, MODEL_VERSION, VasgModel } from '../src/model/vasg-model.js';
import { spawnSync } from 'node:child_process';
import { loadSplit, writeSplit } from '../src/data/split.js';
import { evaluateModel } from '../src/eval/evaluate.js';
import { silentProgress } from '../src/progress.js';
import { resolveConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';

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
  assert.throws(() => prepareSplit(dataset, { seed: 1, coldPolicy: { fraction: 0.99 } }),
    (e: Error) => e instanceof ConfigError && /--cold 0\.99 leaves no warm test pairs, so warm AUC could not be measured; try a smaller --cold fraction/.test(e.message));
});

test('the marker records size and CRC-32 of every file, empty arrays included, and a load checks them', () => {
  const dir = path.join(root, 'checked');
  writeDirectoryAtomic(dir, [['empty.npy', () => encodeNpy({ data: new Float32Array(0), rows: 0, cols: 6 })], ['a.txt', 'abc']]);
  const marker = JSON.parse(fs.readFileSync(path.join(dir, '.vasg-complete'), 'utf8'));
  assert.deepEqual(marker.files['a.txt'], { bytes: 3, crc32: 0x352441c2 });
  assert.equal(marker.files['empty.npy'].crc32, zlib.crc32(fs.readFileSync(path.join(dir, 'empty.npy'))));
  openWrittenDirectory(dir);
  fs.writeFileSync(path.join(dir, 'a.txt'), 'abd');
  assert.throws(() => openWrittenDirectory(dir), (e: Error) => e instanceof InputError && e.message.startsWith(`${path.join(dir, 'a.txt')}: has CRC-32 `));
  fs.writeFileSync(path.join(dir, '.vasg-complete'), '{"format": "vasg-complete"');
  assert.throws(() => openWrittenDirectory(dir), /\.vasg-complete: not valid JSON/);
  fs.writeFileSync(path.join(dir, '.vasg-complete'), '');
  openWrittenDirectory(dir); // the empty marker of outputs written before the checks
  fs.rmSync(dir, { recursive: true });
});

test('files the new output does not write (decoder_* of an older model trained with --decoder) go with the old directory', () => {
  const dir = path.join(root, 'stale');
  writeDirectoryAtomic(dir, [['manifest.json', '{}'], ['decoder_0_W.npy', 'old']]);
  writeDirectoryAtomic(dir, [['manifest.json', '{"v":2}']]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['.vasg-complete', 'manifest.json']);
  fs.rmSync(dir, { recursive: true });
});

test('prepare over a split of generated data, from data without ground truth, leaves no stale truth_*.npy', () => {
  const dir = path.join(root, 'resplit');
  const split = prepareSplit(generate('tiny', 5), { seed: 1 });
  writeSplit(dir, split);
  assert.ok(fs.existsSync(path.join(dir, 'truth_users.npy')));
  const { truth, ...withoutTruth } = split;
  assert.ok(truth);
  writeSplit(dir, withoutTruth);
  assert.deepEqual(fs.readdirSync(dir).filter((name) => name.startsWith('truth_')), []);
  assert.equal(loadSplit(dir).truth, undefined, 'the Oracle gets no stale ground truth');
  fs.rmSync(dir, { recursive: true });
});

const bin = path.resolve('bin/vasg.js');
const vasg = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

/**
 * Preloaded (NODE_OPTIONS=--require) into `vasg train` and its worker threads: counts every rename the process
 * makes, in a file all threads share, and SIGKILLs the process just before the N-th, as strace's fault injection
 * would, but without ptrace, so the test runs wherever Node does and never skips.
 */
const KILL_BEFORE_RENAME = `
const fs = require('node:fs');
const { syncBuiltinESMExports } = require('node:module');
const at = Number(process.env.VASG_TEST_KILL_AT_RENAME);
const counter = process.env.VASG_TEST_RENAME_COUNTER;
function before() {
  const n = Number(fs.readFileSync(counter, 'utf8')) + 1;
  fs.writeFileSync(counter, String(n));
  if (n === at) process.kill(process.pid, 'SIGKILL');
}
const renameSync = fs.renameSync;
fs.renameSync = (from, to) => { before(); return renameSync(from, to); };
const rename = fs.rename;
fs.rename = (from, to, callback) => { before(); return rename(from, to, callback); };
const renamePromise = fs.promises.rename;
fs.promises.rename = (from, to) => { before(); return renamePromise(from, to); };
syncBuiltinESMExports();
`;

/** What tells two models apart: file names, the arrays' bytes and the config (manifest.json itself carries a timestamp). */
function modelContents(dir: string): string {
  const names = fs.readdirSync(dir).sort();
  const arrays = names.filter((n) => n.endsWith('.npy')).map((n) => `${n}:${fs.readFileSync(path.join(dir, n)).toString('base64')}`);
  const { config } = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { config: unknown };
  return JSON.stringify({ names, arrays, config });
}

test('SIGKILL before every rename of `vasg train --out EXISTING`: the model is the old or the new one, never mixed, and evaluates', async (t) => {
  const work = path.join(root, 'kill-at-rename');
  fs.mkdirSync(work, { recursive: true });
  const preload = path.join(work, 'kill-before-rename.cjs');
  const counter = path.join(work, 'renames');
  fs.writeFileSync(preload, KILL_BEFORE_RENAME);
  const split = prepareSplit(generate('tiny', 1), { seed: 1 });
  writeSplit(path.join(work, 'split'), split);
  const quick = ['--data', path.join(work, 'split'), '--epochs', '1', '--walks-per-node', '2', '--rank-epochs', '1', '--encoder-steps', '10', '--threads', '1', '--json'];
  // The new model differs in D and has no decoder: a mix would show as stale decoder_* files or mismatched shapes.
  const oldArgs = ['train', ...quick, '--dim', '8', '--hidden', '16', '--decoder'];
  const newArgs = ['train', ...quick, '--dim', '12'];
  const oldModel = path.join(work, 'old-model');
  const newModel = path.join(work, 'new-model');
  assert.equal(vasg(...oldArgs, '--out', oldModel).status, 0);
  assert.equal(vasg(...newArgs, '--out', newModel).status, 0);
  const versions = new Map([[modelContents(oldModel), 'old'], [modelContents(newModel), 'new']]);
  const seen = new Map<string, number[]>();
  const model = path.join(work, 'models', 'model');
  for (let n = 1; ; n++) {
    fs.rmSync(path.join(work, 'models'), { recursive: true, force: true });
    fs.cpSync(oldModel, model, { recursive: true });
    fs.writeFileSync(counter, '0');
    const env = { ...process.env, NODE_OPTIONS: `--require ${JSON.stringify(preload)}`, VASG_TEST_KILL_AT_RENAME: String(n), VASG_TEST_RENAME_COUNTER: counter };
    const run = spawnSync(process.execPath, [bin, ...newArgs, '--out', model], { encoding: 'utf8', env });
    const killed = run.signal === 'SIGKILL';
    assert.ok(killed || run.status === 0, `run killed at rename ${n}: status ${run.status}, ${run.stderr}`);
    assert.equal(Number(fs.readFileSync(counter, 'utf8')) >= n, killed, `rename ${n}: the hook counted ${fs.readFileSync(counter, 'utf8')} renames`);
    if (!fs.existsSync(model)) {
      // Killed between the two renames of the swap: the CLI's own load must recover it.
      const evaluated = vasg('evaluate', '--model', model, '--data', path.join(work, 'split'), '--threads', '1', '--json');
      assert.equal(evaluated.status, 0, `evaluate after a kill at rename ${n}: ${evaluated.stderr}`);
    }
    const loaded = VasgModel.load(model);
    const version = versions.get(modelContents(model));
    assert.ok(version, `after a kill at rename ${n} the directory is neither the old nor the new model: ${fs.readdirSync(model).join(', ')}`);
    assert.deepEqual(fs.readdirSync(path.dirname(model)), ['model'], `no staged or old siblings left after a kill at rename ${n}`);
    const report = await evaluateModel(loaded, split, { threads: 1, seed: 1, progress: silentProgress });
    assert.ok(Number.isFinite(report.auc.warm) && report.auc.warm > 0.5, `warm AUC ${report.auc.warm} after a kill at rename ${n}`);
    seen.set(version, [...(seen.get(version) ?? []), n]);
    if (!killed) break; // n is past the last rename: the run completed
  }
  t.diagnostic(`rename before which the process was killed, by the version the directory then held: ${JSON.stringify(Object.fromEntries(seen))}`);
  assert.ok((seen.get('old') ?? []).length >= 3 && (seen.get('new') ?? []).length >= 2, `kills left ${JSON.stringify(Object.fromEntries(seen))}`);
});

test('a diverging loss stops training with an error naming the loss and the flag, and saves nothing', () => {
  const work = path.join(root, 'diverge');
  writeSplit(path.join(work, 'split'), prepareSplit(generate('tiny', 1), { seed: 1 }));
  const quick = ['train', '--data', path.join(work, 'split'), '--dim', '8', '--hidden', '16', '--epochs', '1', '--walks-per-node', '2', '--rank-epochs', '2', '--encoder-steps', '10', '--threads', '1'];
  const model = path.join(work, 'models', 'model');
  assert.equal(vasg(...quick, '--out', model).status, 0);
  const before = modelContents(model);
  const cases: Array<[string[], RegExp]> = [
    // Skip-gram's loss is clamped, so it is its climb (not a NaN) that names it, even when the decoder overflows first.
    [['--skipgram-lr', '1', '--decoder'], /training diverged in epoch 1 \(chunk \d+\/\d+\): (user|product) vector \d+ holds NaN; the skip-gram loss is \d+\.\d+ per pair; try a lower --skipgram-lr \(now 1\)/],
    [['--skipgram-lr', '10'], /the skip-gram loss is \d+\.\d+ per pair; try a lower --skipgram-lr \(now 10\)/],
    [['--rank-lr', '10'], /ranking refinement diverged in epoch \d: the BPR loss is NaN; try a lower --rank-lr \(now 10\)/],
  ];
  for (const [flags, message] of cases) {
    for (const out of [model, path.join(work, 'models', 'fresh')]) {
      const run = vasg(...quick, ...flags, '--out', out);
      assert.equal(run.status, 1, `${flags.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    assert.equal(modelContents(model), before, `${flags.join(' ')}: the existing model is untouched`);
    assert.deepEqual(fs.readdirSync(path.dirname(model)), ['model'], `${flags.join(' ')}: nothing saved, no litter`);
  }
});

test('a raw feature too large for the decoder (3e38 with --no-min-max) is refused before training, naming product and column', async () => {
  const split = prepareSplit(generate('tiny', 1), { seed: 1 });
  const data = Float32Array.from(split.features.data);
  data[2 * split.features.cols + 5] = 3e38;
  const huge = { ...split, features: { ...split.features, data } };
  const config = resolveConfig({ threads: 1, seed: 1, dim: 8, epochs: 1, minMaxScale: false, decoder: true });
  await assert.rejects(trainVasg(huge, config, silentProgress),
    new RegExp(`features\\.npy: row 2 \\(product "${split.itemIds[2]}"\\), column 5: 3\\.0+\\d*e\\+38 is too large .* drop --no-min-max or rescale the features`));
});
