// The principal subspace (model/subspace.ts) that the ranking refinement's E moves in on wide features: orthonormal
// columns spanning a low-rank matrix's row space (read in blocks), dependent columns zeroed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/data/random.js';
import { orthonormalizeColumns, principalSubspace } from '../src/model/subspace.js';

/** PᵀP for a row-major [rows × k] basis. */
function gram(p: Float32Array, rows: number, k: number): number[][] {
  return Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => {
    let s = 0;
    for (let r = 0; r < rows; r++) s += p[r * k + a] * p[r * k + b];
    return s;
  }));
}

test('principalSubspace: orthonormal columns spanning the row space of a rank-3 matrix (plus noise)', () => {
  const rng = new Rng(4);
  const n = 5000; // more than one block of rows
  const I = 40;
  const r = 3;
  const left = rng.fillNormal(new Float32Array(n * r));
  const right = rng.fillNormal(new Float32Array(r * I));
  const data = new Float32Array(n * I);
  for (let i = 0; i < n; i++) for (let c = 0; c < I; c++) {
    let v = 1e-3 * rng.normal();
    for (let t = 0; t < r; t++) v += left[i * r + t] * right[t * I + c];
    data[i * I + c] = v;
  }
  const k = 5;
  const basis = principalSubspace({ data, rows: n, cols: I }, k, 1);
  const g = gram(basis, I, k);
  // Unit or zero columns (those beyond the numerical rank), pairwise orthogonal; at least the rank's worth of units.
  for (let a = 0; a < k; a++) {
    assert.ok(Math.abs(g[a][a] - 1) < 1e-4 || g[a][a] === 0, `PᵀP[${a}][${a}] = ${g[a][a]}`);
    for (let b = 0; b < k; b++) if (a !== b) assert.ok(Math.abs(g[a][b]) < 1e-4, `PᵀP[${a}][${b}] = ${g[a][b]}`);
  }
  assert.ok(g.filter((row, a) => row[a] > 0.5).length >= r);
  // Every row of `right` (the row space) lies in span(P): ||v − PPᵀv|| ≈ 0.
  for (let t = 0; t < r; t++) {
    const v = right.subarray(t * I, (t + 1) * I);
    const coords = Array.from({ length: k }, (_, j) => v.reduce((s, x, c) => s + x * basis[c * k + j], 0));
    let residual = 0;
    let norm = 0;
    for (let c = 0; c < I; c++) {
      const projected = coords.reduce((s, z, j) => s + z * basis[c * k + j], 0);
      residual += (v[c] - projected) ** 2;
      norm += v[c] ** 2;
    }
    assert.ok(Math.sqrt(residual / norm) < 1e-3, `row ${t}: relative residual ${Math.sqrt(residual / norm)}`);
  }
});

test('orthonormalizeColumns: a column in the span of the earlier ones becomes zero', () => {
  // Columns (1, 0, 0), (1, 1, 0), (2, 1, 0): the third is the sum of the first two.
  const a = Float32Array.of(1, 1, 2, 0, 1, 1, 0, 0, 0);
  orthonormalizeColumns(a, 3, 3);
  assert.deepEqual(Array.from(a), [1, 0, 0, 0, 1, 0, 0, 0, 0]);
});
