import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { generate, generateWithStyles, PRESETS } from '../src/data/generate.js';
import { loadSplit, writeSplit } from '../src/data/split.js';
import { FEW_TEST_USERS, parseTestFraction, prepareTimeSplit } from '../src/data/time-split.js';
import type { Dataset } from '../src/data/types.js';
import { ConfigError, InputError } from '../src/errors.js';

/** A hand-made data set: rows of [user, item, time]. */
function handDataset(rows: Array<[number, number, number]>, nUsers: number, nItems: number): Dataset {
  return {
    userIds: Array.from({ length: nUsers }, (_, u) => `u${u}`),
    itemIds: Array.from({ length: nItems }, (_, i) => `p${i}`),
    items: Array.from({ length: nItems }, () => ({ title: '', category: '', imageUrl: '' })),
    interactions: {
      users: Int32Array.from(rows, (r) => r[0]),
      items: Int32Array.from(rows, (r) => r[1]),
      ratings: new Float32Array(rows.length).fill(5),
      timestamps: Float64Array.from(rows, (r) => r[2]),
    },
    features: { data: new Float32Array(nItems * 2).fill(1), rows: nItems, cols: 2 },
  };
}

test('time split by hand: cutoff at the (1 − F) quantile, first purchase after it, new arrivals cold, never-bought kept', () => {
  // 10 interactions; F = 0.3 → cutoff = 7th smallest time (index 7) = 8.
  const data = handDataset([
    [0, 0, 1], [0, 1, 2], [0, 2, 8], [0, 3, 9], // u0: trains on p0 p1, tested on p2 (t = 8: at the cutoff counts as after)
    [1, 0, 3], [1, 1, 4], [1, 2, 5], [1, 3, 10], // u1: trains on p0 p1 p2, tested on p3 (a new arrival)
    [2, 1, 6], [2, 2, 7], // u2: only before the cutoff: trains, no test
  ], 4, 5); // u3 never bought anything; p4 was never bought
  const split = prepareTimeSplit(data, { seed: 1, testFraction: 0.3, minInteractions: 1 });
  assert.equal(split.summary.cutoff, 8);
  assert.equal(split.summary.split, 'time');
  assert.deepEqual(split.userIds, ['u0', 'u1', 'u2']);
  assert.deepEqual(split.itemIds, ['p0', 'p1', 'p2', 'p3', 'p4'], 'the whole catalogue stays a candidate');
  assert.deepEqual(Array.from(split.warm), [1, 1, 1, 0, 0]);
  assert.deepEqual(Array.from(split.test.users, (u, j) => `${split.userIds[u]}:${split.itemIds[split.test.items[j]]}`), ['u0:p2', 'u1:p3']);
  assert.equal(split.train.users.length, 7);
  assert.ok(split.train.timestamps.every((t) => t < 8));
  assert.deepEqual([split.summary.testWarm, split.summary.testCold, split.summary.newArrivals, split.summary.neverBought], [1, 1, 1, 1]);
  assert.equal(split.summary.filtered.laterInteractionsNotTested, 1, 'u0 bought p3 after p2');
  assert.equal(split.summary.shareAfterCutoff, 0.3);
  assert.ok(split.summary.warnings?.some((w) => w.startsWith('only 2 users bought both before and after the cutoff')), 'few test users are warned about');
});

test('time split: interactions tied at the cutoff all fall after it; a tie for the first purchase is broken by the seed', () => {
  // Times 1 2 3 5 5 5: F = 0.5 → cutoff = 5, and the three purchases at 5 are all after it (share 0.5 → 0.5).
  const rows: Array<[number, number, number]> = [[0, 0, 1], [0, 1, 2], [1, 0, 3], [0, 2, 5], [0, 3, 5], [1, 1, 5]];
  const data = handDataset(rows, 2, 4);
  const split = prepareTimeSplit(data, { seed: 1, testFraction: 0.5, minInteractions: 1 });
  assert.equal(split.summary.cutoff, 5);
  assert.ok(split.train.timestamps.every((t) => t < 5));
  const chosen = new Set<string>();
  for (let seed = 1; seed <= 20; seed++) {
    const s = prepareTimeSplit(data, { seed, testFraction: 0.5, minInteractions: 1 });
    chosen.add(s.itemIds[s.test.items[s.userIds.indexOf('u0') === s.test.users[0] ? 0 : 1]]);
  }
  assert.deepEqual([...chosen].sort(), ['p2', 'p3'], 'either tied first purchase can be the test product');
  // F = 0.4 on the same times puts the cutoff at index 3 → 5 as well: ties make the test side larger than F.
  assert.equal(prepareTimeSplit(data, { seed: 1, testFraction: 0.4, minInteractions: 1 }).summary.shareAfterCutoff, 0.5);
});

test('time split errors: no timestamps, some missing, F outside (0, 0.5], cutoff on the first time, no test user', () => {
  const rows: Array<[number, number, number]> = [[0, 0, 1], [0, 1, 2], [1, 0, 3], [1, 1, 4]];
  const noTimes = handDataset(rows, 2, 2);
  noTimes.interactions.timestamps.fill(NaN);
  assert.throws(() => prepareTimeSplit(noTimes, { seed: 1, minInteractions: 1 }), (e: Error) => e instanceof InputError && /interactions\.csv: has no timestamps/.test(e.message));
  const someMissing = handDataset(rows, 2, 2);
  someMissing.interactions.timestamps[2] = NaN;
  assert.throws(() => prepareTimeSplit(someMissing, { seed: 1, minInteractions: 1 }), /interactions\.csv: 1 of 4 interactions have no timestamp/);
  for (const f of [0, -0.1, 0.6, 1]) {
    assert.throws(() => prepareTimeSplit(handDataset(rows, 2, 2), { seed: 1, testFraction: f, minInteractions: 1 }), (e: Error) => e instanceof ConfigError && /--test-fraction: expected a number in \(0, 0\.5\]/.test(e.message));
  }
  assert.throws(() => parseTestFraction('0.6'), /expected a number in \(0, 0\.5\], found "0\.6"/);
  assert.throws(() => parseTestFraction('0'), /test fraction/);
  assert.equal(parseTestFraction('0.5'), 0.5);
  const sameTime = handDataset(rows.map(([u, i]) => [u, i, 7]), 2, 2);
  assert.throws(() => prepareTimeSplit(sameTime, { seed: 1, minInteractions: 1 }), /is the earliest timestamp \(4 of 4 interactions share it\)/);
  // u0 buys only before the cutoff, u1 only after: nobody to test.
  const apart = handDataset([[0, 0, 1], [0, 1, 2], [1, 0, 3], [1, 1, 4]], 2, 2);
  assert.throws(() => prepareTimeSplit(apart, { seed: 1, testFraction: 0.5, minInteractions: 1 }), (e: Error) => e instanceof ConfigError && /no user bought both before and after the cutoff/.test(e.message));
});

test('time split of generated data: nothing tested precedes the cutoff, no cold product in training, natural new arrivals; round trip', () => {
  const dataset = generate('tiny', 1);
  const split = prepareTimeSplit(dataset, { seed: 1 });
  const cutoff = split.summary.cutoff!;
  const time = new Map<string, number>();
  dataset.interactions.users.forEach((u, k) => time.set(`${dataset.userIds[u]}|${dataset.itemIds[dataset.interactions.items[k]]}`, dataset.interactions.timestamps[k]));
  assert.ok(split.train.timestamps.every((t) => t < cutoff), 'training is strictly before the cutoff');
  const userTimes = new Map<string, number[]>();
  dataset.interactions.users.forEach((u, k) => userTimes.set(dataset.userIds[u], [...(userTimes.get(dataset.userIds[u]) ?? []), dataset.interactions.timestamps[k]]));
  split.test.users.forEach((u, j) => {
    const t = time.get(`${split.userIds[u]}|${split.itemIds[split.test.items[j]]}`)!;
    assert.ok(t >= cutoff, 'no test interaction precedes the cutoff');
    assert.equal(t, Math.min(...userTimes.get(split.userIds[u])!.filter((x) => x >= cutoff)), 'the first purchase after the cutoff');
  });
  for (const item of split.train.items) assert.equal(split.warm[item], 1, 'no cold product in training');
  assert.equal(split.items.length, dataset.itemIds.length);
  assert.ok(split.summary.testCold > 0 && split.summary.testWarm > split.summary.testCold, `test ${split.summary.testWarm} warm / ${split.summary.testCold} cold`);
  assert.ok(split.summary.newArrivals! > 0);
  assert.ok(split.test.users.length >= FEW_TEST_USERS || split.summary.warnings!.length > 0);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-time-'));
  writeSplit(path.join(dir, 'split'), split);
  assert.deepEqual(loadSplit(path.join(dir, 'split')), split);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('generator: every product has a release time, nobody buys before it, and some products arrive later', () => {
  const { dataset, release } = generateWithStyles('tiny', 3);
  assert.equal(release.length, dataset.itemIds.length);
  for (let i = 1; i < release.length; i++) assert.ok(release[i] >= release[i - 1], 'product ids follow release order');
  const { users, items, timestamps } = dataset.interactions;
  for (let k = 0; k < users.length; k++) assert.ok(timestamps[k] >= release[items[k]], `purchase ${k} precedes its product's release`);
  const first = release[0];
  const arrivals = release.filter((t) => t > first).length / release.length;
  assert.ok(arrivals > 0.25 && arrivals < 0.6, `share of later arrivals among bought products ${arrivals}`);
  const none = generateWithStyles({ ...PRESETS.tiny, arrivalFraction: 0 }, 3).release;
  assert.ok(none.every((t) => t === none[0]), 'arrivalFraction 0: the whole catalogue is on sale from the start');
  assert.throws(() => generate({ ...PRESETS.tiny, arrivalFraction: 0.9 }, 1), /arrivalFraction must be in \[0, 1 − maxActivityFraction = 0\.8\], found 0\.9/);
});

test('CLI: prepare --split time → train → evaluate --json (top-k keys) → tune --metric; flag errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-time-cli-'));
  const at = (name: string) => path.join(dir, name);
  const vasg = (...args: string[]) => spawnSync(process.execPath, [path.resolve('bin/vasg.js'), ...args], { encoding: 'utf8' });
  const ok = (r: ReturnType<typeof vasg>) => assert.equal(r.status, 0, r.stderr);
  ok(vasg('generate', '--preset', 'tiny', '--seed', '1', '--out', at('data'), '--json'));
  let r = vasg('prepare', '--data', at('data'), '--out', at('bad'), '--split', 'time', '--cold', '0.3');
  assert.match(r.stderr, /--cold applies to --split random/);
  r = vasg('prepare', '--data', at('data'), '--out', at('bad'), '--test-fraction', '0.2');
  assert.match(r.stderr, /--test-fraction applies to --split time/);
  r = vasg('prepare', '--data', at('data'), '--out', at('bad'), '--split', 'time', '--test-fraction', '0.7');
  assert.match(r.stderr, /test fraction: expected a number in \(0, 0\.5\], found "0\.7"/);
  assert.equal(fs.existsSync(at('bad')), false, 'nothing written on a flag error');
  // F = 0.05 leaves fewer than 100 test users on tiny: written, with a warning on stderr even with --json.
  r = vasg('prepare', '--data', at('data'), '--out', at('split'), '--split', 'time', '--test-fraction', '0.05', '--json');
  ok(r);
  assert.match(r.stderr, /^warning: only \d+ users bought both before and after the cutoff/m);
  const summary = JSON.parse(fs.readFileSync(at('split/summary.json'), 'utf8'));
  assert.equal(summary.split, 'time');
  assert.equal(summary.testFraction, 0.05);
  assert.equal(JSON.parse(r.stdout).cutoff, summary.cutoff);
  ok(vasg('train', '--data', at('split'), '--out', at('model'), '--threads', '1', '--dim', '16', '--json'));
  r = vasg('evaluate', '--model', at('model'), '--data', at('split'), '--threads', '1', '--k', '5,20', '--json');
  ok(r);
  const report = JSON.parse(r.stdout);
  for (const key of ['recall@5', 'recall@20', 'ndcg@5', 'ndcg@20']) assert.deepEqual(Object.keys(report[key]).sort(), ['all', 'cold', 'warm'], key);
  assert.equal(report['recall@50'], undefined, '--k replaces the default cut-offs');
  assert.ok(report['coverage@20'] > 0 && report['coverage@20'] <= 1);
  assert.equal(report['exposure@20'].coldTestShare, summary.testCold / (summary.testWarm + summary.testCold));
  assert.ok(report['popularity@20'] > 0 && report['popularity@20'] < 1);
  r = vasg('tune', '--data', at('split'), '--trials', '1', '--threads', '1', '--metric', 'ndcg@20', '--json');
  ok(r);
  const tuned = JSON.parse(r.stdout);
  assert.equal(tuned.metric, 'ndcg@20');
  assert.equal(tuned.trials[0].score, tuned.trials[0]['ndcg@20']);
  assert.match(vasg('tune', '--data', at('split'), '--metric', 'auc').stderr, /expected one of recall@20, ndcg@20, combined-auc, got "auc"/);
  fs.rmSync(dir, { recursive: true, force: true });
});
