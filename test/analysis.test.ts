// §5 analyses on hand-made data with known answers (PCA axis, kurtosis, linear relations, t-SNE
// clusters), and the SVG figures.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Matrix, Split } from '../src/data/types.js';
import { Rng } from '../src/data/random.js';
import { histogram, linearRelations, moments, pca, randomPairs, cosineDistribution, tsne } from '../src/eval/analysis.js';
import { thumbnailHref } from '../src/experiments/analysis.js';
import { barFigure, histogramFigure, lineFigure, recommendationsFigure, scatterFigure } from '../src/eval/figures.js';

function matrix(rows: number[][]): Matrix {
  return { data: Float32Array.from(rows.flat()), rows: rows.length, cols: rows[0].length };
}

/** The fields of a Split the analyses read: training interactions and item metadata. */
function fakeSplit(nUsers: number, nItems: number, bought: Array<[number, number]>): Split {
  return {
    userIds: Array.from({ length: nUsers }, (_, u) => `u${u}`),
    itemIds: Array.from({ length: nItems }, (_, i) => `i${i}`),
    items: Array.from({ length: nItems }, () => ({ title: '', category: 'c', imageUrl: '' })),
    warm: new Uint8Array(nItems).fill(1),
    train: {
      users: Int32Array.from(bought, ([u]) => u),
      items: Int32Array.from(bought, ([, i]) => i),
      ratings: new Float32Array(bought.length).fill(1),
      timestamps: new Float64Array(bought.length).fill(NaN),
    },
    test: { users: new Int32Array(0), items: new Int32Array(0) },
    features: { data: new Float32Array(nItems), rows: nItems, cols: 1 },
  } as unknown as Split;
}

test('pca recovers the main axis of an elongated cloud', () => {
  const rng = new Rng(5);
  const dir = [1 / 3, 2 / 3, 2 / 3];
  const rows: number[][] = [];
  for (let r = 0; r < 500; r++) {
    const t = 5 * rng.normal();
    rows.push(dir.map((d) => 10 + t * d + 0.3 * rng.normal()));
  }
  const result = pca(matrix(rows), 2, 1);
  const axis = Array.from(result.axes.data.subarray(0, 3));
  const cos = Math.abs(axis.reduce((s, a, c) => s + a * dir[c], 0));
  assert.ok(cos > 0.999, `main axis ${axis} vs ${dir}`);
  assert.ok(result.explained[0] > 0.95, `explained ${result.explained}`);
  assert.ok(Math.abs(result.variances[0] - 25) < 4, `variance ${result.variances[0]}`);
  const second = Array.from(result.axes.data.subarray(3, 6));
  assert.ok(Math.abs(second.reduce((s, a, c) => s + a * axis[c], 0)) < 1e-6, 'axes are orthogonal');
  // Scores are the centred data on the axes: mean zero, variance = the eigenvalue.
  const m = moments(Array.from({ length: 500 }, (_, r) => result.scores.data[2 * r]));
  assert.ok(Math.abs(m.mean) < 1e-4 && Math.abs(m.sd ** 2 * 500 / 499 - result.variances[0]) < 1e-3);
});

test('moments: excess kurtosis of known samples', () => {
  const k = moments([1, 2, 3, 4, 5]);
  assert.equal(k.mean, 3);
  assert.ok(Math.abs(k.excessKurtosis - -1.3) < 1e-12); // m2 = 2, m4 = 6.8
  assert.ok(Math.abs(moments([-1, 1, -1, 1]).excessKurtosis - -2) < 1e-12);
  const rng = new Rng(2);
  const laplace = Array.from({ length: 200000 }, () => -Math.log(1 - rng.next()) * (rng.next() < 0.5 ? -1 : 1));
  assert.ok(Math.abs(moments(laplace).excessKurtosis - 3) < 0.3, 'Laplace: 3');
});

test('cosine distribution: histogram density integrates to 1, identical vectors give similarity 1', () => {
  const vectors = matrix([[1, 0], [2, 0], [3, 0]]);
  const pairs = randomPairs(3, 100, 1);
  const dist = cosineDistribution('same direction', vectors, pairs, 20);
  assert.ok(Math.abs(dist.moments.mean - 1) < 1e-6);
  const h = histogram([0.1, 0.2, 0.9, -1, 1], 4, -1, 1);
  assert.deepEqual(h.counts, [1, 0, 2, 2]);
  const width = 0.5;
  assert.ok(Math.abs(h.density.reduce((s, d) => s + d * width, 0) - 1) < 1e-12);
});

test('linear relations: precision@5 on a geometry with a known answer', () => {
  // u0 = e1 bought p0 = e1 + e3; u1 = e2 bought p1 = e2 + e3. Five decoys lie near each user
  // (e_u + 0.3·e4), closer to the user than its own product. The analogy p0 − u0 + u1 lands exactly
  // on p1 (and vice versa), so it always hits; the user alone finds only decoys; so does p0 alone.
  const users = matrix([[1, 0, 0, 0], [0, 1, 0, 0]]);
  const rows = [[1, 0, 1, 0], [0, 1, 1, 0]];
  for (let d = 0; d < 5; d++) rows.push([1, 0, 0, 0.3]);
  for (let d = 0; d < 5; d++) rows.push([0, 1, 0, 0.3]);
  const items = matrix(rows);
  const split = fakeSplit(2, 12, [[0, 0], [1, 1]]);
  const result = linearRelations(users, items, split, 200, 1);
  assert.equal(result.samples, 200);
  assert.equal(result.precisionAt5, 1);
  assert.equal(result.userOnlyAt5, 0);
  assert.equal(result.productOnlyAt5, 0);
  assert.ok(Math.abs(result.meanHitsAt5 - 0.2) < 1e-12);
});

test('t-SNE keeps two separated clusters apart, deterministically', () => {
  const rng = new Rng(3);
  const rows: number[][] = [];
  for (let r = 0; r < 60; r++) rows.push(Array.from({ length: 10 }, (_, c) => (r < 30 && c === 0 ? 8 : 0) + rng.normal()));
  const data = matrix(rows);
  const a = tsne(data, { seed: 1 });
  const b = tsne(data, { seed: 1 });
  assert.deepEqual(a.points.data, b.points.data);
  assert.equal(a.perplexity, 59 / 3); // capped at (n − 1)/3
  assert.ok(Number.isFinite(a.kl) && a.kl >= 0);
  const y = a.points.data;
  for (let i = 0; i < 60; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let j = 0; j < 60; j++) {
      if (j === i) continue;
      const d = (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2;
      if (d < bestD) [best, bestD] = [j, d];
    }
    assert.equal(best < 30, i < 30, `point ${i}'s nearest neighbour ${best} is in the other cluster`);
  }
});

test('figures render SVG strings', async () => {
  const scatter = await scatterFigure([{ x: 0, y: 1, group: 'a' }, { x: 1, y: 0, group: 'b' }], { title: 'PCA' });
  assert.match(scatter, /<svg/);
  assert.match(scatter, /PCA/);
  const pixel = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
  const thumbs = await scatterFigure([{ x: 0, y: 1, group: 'a', imageUrl: pixel }, { x: 1, y: 0, group: 'b', imageUrl: pixel }]);
  assert.match(thumbs, /<svg/);
  assert.match(thumbs, /<image/);
  const h = histogram([0.1, 0.2, 0.3], 10, -1, 1);
  assert.match(await histogramFigure([{ name: 'VASG', histogram: h }, { name: 'image', histogram: h }]), /<svg/);
  assert.match(await lineFigure([{ name: 'warm', x: [10, 50, 100], y: [0.8, 0.85, 0.86] }], { xTitle: 'D', yTitle: 'AUC' }), /<svg/);
  assert.match(await barFigure([{ label: 'INN', value: 0.6 }, { label: 'VASG', value: 0.8 }]), /<svg/);
  await assert.rejects(lineFigure([{ name: 'bad', x: [1], y: [] }]), /series "bad" has 1 x values and 0 y values/);
});

test('the recommendations figure labels products by title and category, and shows thumbnails where they exist', async () => {
  const cells = [0, 1, 6, 7].map((column) => ({ row: 'user U1', column, category: column < 5 ? 'Dresses' : 'Shoes', title: `Item ${column}`, cold: column === 7, href: '' }));
  const labelled = await recommendationsFigure(cells);
  for (const text of ['Dresses', 'Shoes', 'Item 0', 'Item 7 ❄', 'user U1', 'bought 1', 'top 1']) assert.ok(labelled.includes(text), `figure shows "${text}"`);
  assert.ok(!labelled.includes('<image'));
  const pixel = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
  const withThumbnails = await recommendationsFigure(cells.map((c) => ({ ...c, href: pixel })));
  assert.equal(withThumbnails.split('<image').length - 1, cells.length);
});

test('thumbnails are found as vasg features finds images: a downloaded URL\'s file name, <item_id>.png; else the web URL', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-thumbs-'));
  try {
    const png = (file: string) => sharp({ create: { width: 4, height: 4, channels: 3, background: '#c00' } }).png().toFile(path.join(dir, file));
    await png('B01.jpg');
    await png('P7.png');
    const url = 'https://images.example/I/B01.jpg';
    assert.match(await thumbnailHref('B01', url, dir), /^data:image\/png;base64,/);
    assert.match(await thumbnailHref('P7', '', dir), /^data:image\/png;base64,/);
    assert.equal(await thumbnailHref('B02', 'https://images.example/I/B02.jpg', dir), 'https://images.example/I/B02.jpg');
    assert.equal(await thumbnailHref('B01', url, undefined), url);
    assert.equal(await thumbnailHref('P8', '', dir), '');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
