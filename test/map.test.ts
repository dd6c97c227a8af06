// The embedding map's projection: PCA recovers known axes, in order, with a fixed sign; sampling is even.
import test from 'node:test';
import assert from 'node:assert/strict';
import { evenSample, pca2 } from '../src/serve/map.js';

test('pca2 finds the two directions of largest variance, largest first, and their variance shares', () => {
  // Points in 3-D: a wide spread along (1,1,0)/√2, a narrower one along z, a tiny one along (1,-1,0)/√2, offset by (5,5,5).
  const dim = 3;
  const n = 400;
  const data = new Float32Array(n * dim);
  const [a, b, c] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let r = 0; r < n; r++) {
    // A full 20 × 20 grid, so the three components are exactly uncorrelated.
    const [i, j] = [r % 20, Math.floor(r / 20)];
    a[r] = 0.3 * (i - 9.5);
    b[r] = 0.1 * (j - 9.5);
    c[r] = (i + j) % 2 === 0 ? 0.01 : -0.01;
    data.set([5 + (a[r] + c[r]) / Math.SQRT2, 5 + (a[r] - c[r]) / Math.SQRT2, 5 + b[r]], r * dim);
  }
  const { coords, explained } = pca2(data, dim);
  const variance = (v: Float64Array) => { const m = v.reduce((s, x) => s + x, 0) / n; return v.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1); };
  const total = variance(a) + variance(b) + variance(c);
  assert.ok(Math.abs(explained[0] - variance(a) / total) < 1e-4, `${explained[0]}`);
  assert.ok(Math.abs(explained[1] - variance(b) / total) < 1e-4, `${explained[1]}`);
  const meanA = a.reduce((s, x) => s + x, 0) / n;
  const meanB = b.reduce((s, x) => s + x, 0) / n;
  for (let r = 0; r < n; r++) {
    // The largest component of each axis is positive: x follows +a (axis (1,1,0)/√2), y follows +b.
    assert.ok(Math.abs(coords[2 * r] - (a[r] - meanA)) < 1e-3 && Math.abs(coords[2 * r + 1] - (b[r] - meanB)) < 1e-3, `row ${r}`);
  }
});

test('evenSample spreads at most `limit` rows over the whole range', () => {
  assert.deepEqual(evenSample(10, 4), [0, 2, 5, 7]);
  assert.deepEqual(evenSample(3, 10), [0, 1, 2]);
  assert.deepEqual(evenSample(0, 5), []);
});
