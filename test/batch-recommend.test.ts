// `vasg recommend --all-users`: every user's top-k as Parquet, in shards that concatenate into one unsharded run,
// written whole or not at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { fit, generate, prepareSplit, VasgModel } from '../src/index.js';
import { parseShard, shardUsers, userHash, writeAllRecommendations } from '../src/model/batch-recommend.js';
import { ConfigError } from '../src/errors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-batch-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const modelDir = path.join(tmp, 'model');
const FAST = { dim: 8, hidden: [16], epochs: 1, walksPerNode: 2, rankEpochs: 2, encoderSteps: 20, threads: 1, seed: 3 };

interface Row { user_id: string; rank: number; item_id: string; score: number; cold: boolean }

async function readParquet(...files: string[]): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  const list = files.map((f) => `'${f}'`).join(', ');
  const reader = await db.runAndReadAll(`SELECT user_id, rank, item_id, score, cold FROM read_parquet([${list}]) ORDER BY user_id, rank`);
  const rows = reader.getRowObjects() as unknown as Row[];
  db.closeSync();
  instance.closeSync();
  return rows;
}

async function model(): Promise<VasgModel> {
  if (!fs.existsSync(modelDir)) (await fit('vasg', prepareSplit(generate('tiny', 1), { seed: 1 }), FAST)).save(modelDir);
  return VasgModel.load(modelDir);
}

function vasg(...args: string[]) {
  return spawnSync(process.execPath, [path.join(root, 'bin/vasg.js'), ...args], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
}

test('shard specs: i/n with 0 ≤ i < n; anything else is a ConfigError saying what was expected', () => {
  assert.deepEqual(parseShard('0/1'), { index: 0, count: 1 });
  assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 });
  for (const [spec, message] of [['3/2', /index must be 0 … 1/], ['2/2', /index must be 0 … 1/], ['0/0', /at least 1/], ['1/0', /at least 1/],
    ['abc', /not of the form i\/n/], ['-1/2', /not of the form/], ['1/2/3', /not of the form/], ['', /not of the form/], ['1.5/2', /not of the form/]] as const) {
    assert.throws(() => parseShard(spec), (e: unknown) => e instanceof ConfigError && message.test(e.message), spec);
  }
});

test('a user\'s shard depends only on its id: FNV-1a known values, and every user in exactly one shard', () => {
  assert.equal(userHash(''), 0x811c9dc5);
  assert.equal(userHash('a'), 0xe40c292c);
  assert.equal(userHash('foobar'), 0xbf9cf968);
  const ids = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
  const shards = [0, 1, 2, 3].map((index) => shardUsers(ids, { index, count: 4 }));
  assert.deepEqual(shards.flat().sort(), [...ids].sort());
  for (const s of shards) assert.ok(s.length > 180 && s.length < 320, `balanced: ${s.length} of 1000 in a quarter`);
  // Dropping other users does not move a user to another shard.
  assert.deepEqual(shardUsers(ids.slice(0, 500), { index: 1, count: 4 }), shards[1].filter((id) => Number(id.slice(5)) < 500));
});

test('--all-users: one row per (user, rank), the same lists as recommend(), and the shards\' union is the unsharded run', async () => {
  const m = await model();
  const whole = path.join(tmp, 'whole.parquet');
  const report = await writeAllRecommendations(m, whole, { k: 7 });
  assert.equal(report.users, m.userIds.length);
  const rows = await readParquet(whole);
  assert.equal(rows.length, report.rows);
  assert.equal(rows.length, m.userIds.length * 7, 'tiny has enough unseen products for every user');
  const user = m.userIds[5];
  const expected = await m.recommend(user, 7);
  const mine = rows.filter((r) => r.user_id === user);
  assert.deepEqual(mine.map((r) => r.rank), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(mine.map((r) => r.item_id), expected.map((r) => r.itemId));
  assert.deepEqual(mine.map((r) => r.cold), expected.map((r) => r.cold));
  mine.forEach((r, j) => assert.ok(Math.abs(r.score - expected[j].score) < 1e-6));

  const parts = [0, 1, 2].map((i) => path.join(tmp, `part-${i}.parquet`));
  const reports = [];
  for (const [i, file] of parts.entries()) reports.push(await writeAllRecommendations(m, file, { k: 7, shard: { index: i, count: 3 } }));
  assert.equal(reports.reduce((s, r) => s + r.users, 0), m.userIds.length);
  assert.ok(reports.every((r) => r.users > 0), 'no empty shard on tiny');
  assert.deepEqual(await readParquet(...parts), rows);
});

test('--index hnsw writes the same columns, with (on a tiny catalogue) the exact lists', async () => {
  const m = await model();
  const file = path.join(tmp, 'hnsw.parquet');
  const report = await writeAllRecommendations(m, file, { k: 5, index: 'hnsw', shard: { index: 0, count: 2 } });
  assert.equal(report.index, 'hnsw');
  const exact = await (await model()).recommend(shardUsers(m.userIds, { index: 0, count: 2 }), 5);
  const rows = await readParquet(file);
  const flat = exact.flatMap((list) => list.map((r) => r.itemId));
  const overlap = rows.filter((r, j) => r.item_id === flat[j]).length;
  assert.equal(rows.length, flat.length);
  // usearch builds the graph on several threads, so the graph (and the few rows it misses) varies from run to run:
  // above 0.95 on an idle machine, 0.944 once on a loaded one; approximate search is checked against a floor.
  assert.ok(overlap / flat.length > 0.9, `hnsw agrees with exact search on ${overlap} of ${flat.length} rows`);
});

test('a failed run leaves the previous file as it was and no temporary file beside it', async () => {
  const m = await model();
  const dir = path.join(tmp, 'atomic');
  fs.mkdirSync(dir);
  const out = path.join(dir, 'recs.parquet');
  fs.writeFileSync(out, 'previous run');
  let calls = 0;
  const real = m.recommend.bind(m);
  // Fails on the second batch, after rows have been appended.
  (m as unknown as { recommend: unknown }).recommend = async (users: string[], k: number) => {
    calls += 1;
    if (calls === 2) throw new Error('disk on fire');
    return real(users, k);
  };
  const many = new Proxy(m, { get: (target, key) => key === 'userIds' ? Array.from({ length: 600 }, (_, i) => target.userIds[i % target.userIds.length]) : Reflect.get(target, key) });
  await assert.rejects(writeAllRecommendations(many, out, { k: 3 }), /disk on fire/);
  assert.equal(calls, 2);
  assert.equal(fs.readFileSync(out, 'utf8'), 'previous run');
  assert.deepEqual(fs.readdirSync(dir), ['recs.parquet']);
  await assert.rejects(writeAllRecommendations(m, path.join(tmp, 'missing', 'recs.parquet'), { k: 3 }), /does not exist/);
});

test('vasg recommend --all-users: JSON report on stdout, bad shard specs and missing --out exit 1 with the reason', async () => {
  await model();
  const out = path.join(tmp, 'cli.parquet');
  const run = vasg('recommend', '--model', modelDir, '--all-users', '--out', out, '--shard', '1/2', '-k', '4', '--json');
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
  const report = JSON.parse(run.stdout);
  assert.equal(report.shard, '1/2');
  assert.equal((await readParquet(out)).length, report.rows);
  for (const spec of ['3/2', '0/0', '1/0', 'two']) {
    const bad = vasg('recommend', '--model', modelDir, '--all-users', '--out', out, '--shard', spec);
    assert.equal(bad.status, 1, spec);
    assert.match(bad.stderr, /--shard/, spec);
  }
  const noOut = vasg('recommend', '--model', modelDir, '--all-users');
  assert.equal(noOut.status, 1);
  assert.match(noOut.stderr, /--all-users needs --out/);
  const shardAlone = vasg('recommend', '--model', modelDir, '--user', 'x', '--shard', '0/2');
  assert.match(shardAlone.stderr, /--shard goes with --all-users/);
});
