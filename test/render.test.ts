// `vasg generate --images`: rendered product images are deterministic, vary with the nuisance seed,
// and show the product's style (colour) and category (silhouette) through builtin:color.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { renderProductImages, IMAGE_SIZE } from '../src/data/images.js';
import type { ProductStyles } from '../src/data/generate.js';
import { colorFeatures } from '../src/features/color.js';
import { loadRgb } from '../src/features/image.js';
import { silentProgress } from '../src/progress.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-render-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Products 0 and 1 share a style (hue 90°), 2 has the opposite hue, 3 has 0's style as another category.
const A = [0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0];
const B = [0, -1, 0, 1, 0, 0, 1, 0, 0, 0, 0];
const styles: ProductStyles = {
  category: Int32Array.of(0, 0, 0, 1),
  categories: ['Tops', 'Shoes'],
  style: Float32Array.from([...A, ...A, ...B, ...A]),
  styleDim: A.length,
};

async function features(pngs: Buffer[]): Promise<Float32Array[]> {
  return Promise.all(pngs.map(async (png, i) => {
    const file = path.join(tmp, `${i}-${Math.random().toString(36).slice(2)}.png`);
    fs.writeFileSync(file, png);
    return colorFeatures(await loadRgb(file, IMAGE_SIZE));
  }));
}

const distance = (a: Float32Array, b: Float32Array, from: number, to: number) =>
  Math.hypot(...Array.from(a.subarray(from, to), (v, k) => v - b[from + k]));

test('rendering is deterministic per seed; the seed moves only the nuisance', async () => {
  const first = await renderProductImages(styles, 7, silentProgress);
  const again = await renderProductImages(styles, 7, silentProgress);
  const other = await renderProductImages(styles, 8, silentProgress);
  assert.equal(first.length, 4);
  assert.ok(first.every((png, i) => png.equals(again[i])));
  assert.ok(!first[0].equals(other[0]), 'another seed draws another background and position');
  const [f0, g0] = await features([first[0], other[0]]);
  const [, , f2] = await features(first);
  const HIST = 64; // builtin:color starts with the 4×4×4 CIELAB histogram of the product's pixels
  assert.ok(distance(f0, g0, 0, HIST) < distance(f0, f2, 0, HIST), 'the same product under other nuisance stays closer than another hue');
});

test('the style sets the colour and the category the silhouette', async () => {
  const [f0, f1, f2, f3] = await features(await renderProductImages(styles, 3, silentProgress));
  const HIST = 64;
  assert.ok(distance(f0, f1, 0, HIST) < 0.5 * distance(f0, f2, 0, HIST), 'same style, close colour histograms; opposite hue, far');
  // Area share (the first shape statistic after the histogram and the Lab means/spreads): a rectangle
  // covers 4/π of the ellipse in the same box; averaged over seeds, as the scale is nuisance (±10 %).
  const AREA = HIST + 6;
  let [rectangle, ellipse] = [f0[AREA], f3[AREA]];
  for (let seed = 4; seed < 8; seed++) {
    const f = await features(await renderProductImages(styles, seed, silentProgress));
    rectangle += f[0][AREA];
    ellipse += f[3][AREA];
  }
  assert.ok(rectangle > ellipse * 1.15, `rectangle area ${rectangle / 5} vs ellipse ${ellipse / 5}`);
});

test('vasg generate --images refuses a folder it cannot write before rendering any image', () => {
  const foreign = path.join(tmp, 'foreign');
  fs.mkdirSync(foreign);
  fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
  const out = path.join(tmp, 'generated');
  const run = spawnSync(process.execPath, [path.resolve('bin/vasg.js'), 'generate', '--preset', 'tiny', '--images', foreign, '--out', out], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /foreign: refusing to replace a non-empty directory that vasg did not write/);
  assert.doesNotMatch(run.stderr, /render images/, 'refused before rendering');
  assert.deepEqual(fs.readdirSync(foreign), ['notes.txt']);
  const same = spawnSync(process.execPath, [path.resolve('bin/vasg.js'), 'generate', '--preset', 'tiny', '--images', out, '--out', out], { encoding: 'utf8' });
  assert.equal(same.status, 1);
  assert.match(same.stderr, /is the --out directory/);
  assert.equal(fs.existsSync(out), false);
});
