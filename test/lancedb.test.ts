// `vasg export --to lancedb://PATH`: a top-k query through LanceDB ranks as the native exact search
// over the model's scoring vectors (cosine and dot models), and the metadata comes along.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as lancedb from '@lancedb/lancedb';
import { native } from '../src/native.js';
import { resolveConfig } from '../src/model/config.js';
import { VasgModel } from '../src/model/vasg-model.js';
import { Rng } from '../src/data/random.js';
import type { Scoring } from '../src/model/config.js';
import { ExactRetriever } from '../src/search/exact.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-lancedb-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function randomModel(scoring: Scoring): VasgModel {
  const dim = 8, nUsers = 30, nItems = 120, rng = new Rng(scoring === 'cosine' ? 1 : 2);
  const config = resolveConfig({ dim, scoring, threads: 1 });
  const network = new native.Mlp([4, dim], { dropout: 0, outputRelu: false, seed: 3 });
  const users = Array.from({ length: nUsers * 3 }, (_, j) => Math.floor(j / 3));
  const train = { users: Int32Array.from(users), items: Int32Array.from(users, () => rng.int(nItems)),
    ratings: new Float32Array(users.length).fill(1), timestamps: new Float64Array(users.length) };
  return VasgModel.fromTraining({
    config, userIds: Array.from({ length: nUsers }, (_, u) => `U${u}`), itemIds: Array.from({ length: nItems }, (_, i) => `P${i}`),
    users: { data: rng.fillNormal(new Float32Array(nUsers * dim), 1), rows: nUsers, cols: dim },
    items: { data: rng.fillNormal(new Float32Array(nItems * dim), 1), rows: nItems, cols: dim },
    cold: Uint8Array.from({ length: nItems }, (_, i) => (i % 5 === 0 ? 1 : 0)),
    encoder: { network, calibration: new Float32Array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]) },
    decoder: null, featureDim: 4, train,
  });
}

function vasg(...args: string[]) {
  return spawnSync(process.execPath, [path.resolve('bin/vasg.js'), ...args], { encoding: 'utf8' });
}

for (const scoring of ['cosine', 'dot'] as const) {
  test(`export --to lancedb: top-k through LanceDB equals the native exact search (${scoring} model)`, async () => {
    const model = randomModel(scoring);
    const dir = path.join(tmp, `model-${scoring}`);
    model.save(dir);
    const itemsFile = path.join(tmp, `items-${scoring}.csv`);
    fs.writeFileSync(itemsFile, 'item_id,title,category,image_url\nP3,"Red, shoe",Shoes,http://x/p3.png\nP7,Hat,Hats,\n');
    const db = path.join(tmp, `db-${scoring}`);
    const run = vasg('export', '--model', dir, '--to', `lancedb://${db}`, '--items', itemsFile, '--json');
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      target: 'lancedb', out: db, users: 30, products: 120, cold: 24, dim: 8, scoring, metadata: true, items: itemsFile,
    });

    const conn = await lancedb.connect(db);
    const products = await conn.openTable('products');
    const users = await conn.openTable('users');
    assert.equal(await products.countRows(), 120);
    assert.equal(await users.countRows(), 30);
    const { users: U, items: V } = model.scoringMatrices();
    const exact = new ExactRetriever(V);
    const notCold = Uint8Array.from(model.parts.cold, (c) => 1 - c);
    for (const u of [0, 11, 29]) {
      const [user] = await users.query().where(`id = 'U${u}'`).toArray();
      const query = Float32Array.from(user.vector.toArray() as Float32Array);
      assert.deepEqual([...query], [...U.data.subarray(u * 8, (u + 1) * 8)]);
      for (const [where, allow] of [[null, undefined], ['cold = false', notCold]] as const) {
        let search = products.vectorSearch(query).distanceType('dot').limit(10);
        if (where) search = search.where(where);
        const got = await search.toArray();
        const want = await exact.search(query, 10, { allow });
        assert.deepEqual(got.map((r) => r.row), [...want.rows], `user ${u} ${where ?? ''}`);
        got.forEach((r, j) => assert.ok(Math.abs(1 - r._distance - want.scores[j]) < 1e-5, `score ${1 - r._distance} vs ${want.scores[j]}`));
      }
    }
    const [p3] = await products.query().where(`id = 'P3'`).toArray();
    assert.deepEqual([p3.title, p3.category, p3.image_url, p3.cold], ['Red, shoe', 'Shoes', 'http://x/p3.png', false]);
    const [p5] = await products.query().where(`id = 'P5'`).toArray();
    assert.deepEqual([p5.title, p5.cold], [null, true]);
    const [u0] = await users.query().where(`id = 'U0'`).toArray();
    assert.equal(u0.purchases, model.parts.seenIndptr[1] - model.parts.seenIndptr[0]);
    const schema = await products.schema();
    assert.equal(schema.metadata.get('vasg.scoring'), scoring);

    // A second export replaces the tables (no duplicated rows).
    assert.equal(vasg('export', '--model', dir, '--to', `lancedb://${db}`).status, 0);
    assert.equal(await (await (await lancedb.connect(db)).openTable('products')).countRows(), 120);
  });
}

test('export --to refuses a target that is not lancedb://PATH', () => {
  const dir = path.join(tmp, 'model-bad');
  randomModel('dot').save(dir);
  const run = vasg('export', '--model', dir, '--to', path.join(tmp, 'plain-folder'));
  assert.equal(run.status, 1);
  assert.match(run.stderr, /--to .*plain-folder: expected lancedb:\/\/PATH/);
});
