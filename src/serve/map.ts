// The web page's embedding map: a 2-D PCA projection of product and user vectors. PCA (rather than
// t-SNE/UMAP) because it is exact, deterministic and linear, so distances along the axes mean what they
// mean in the model's space; the covariance is only dim × dim, so it is cheap even for large samples.

/** Row indices 0 … n-1 thinned to at most `limit`, evenly spaced (deterministic, covers the whole range). */
export function evenSample(n: number, limit: number): number[] {
  const m = Math.min(n, limit);
  return Array.from({ length: m }, (_, j) => Math.floor((j * n) / m));
}

/**
 * Projects the rows of `data` ([n × dim], row-major) on their first two principal axes. Returns the
 * coordinates (x0, y0, x1, y1, …) and the share of the variance each axis explains.
 */
export function pca2(data: Float32Array, dim: number): { coords: Float64Array; explained: [number, number] } {
  const n = data.length / dim;
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let d = 0; d < dim; d++) mean[d] += data[r * dim + d] / n;
  const cov = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    for (let d = 0; d < dim; d++) centred[d] = data[r * dim + d] - mean[d];
    for (let a = 0; a < dim; a++) for (let b = a; b < dim; b++) cov[a * dim + b] += centred[a] * centred[b];
  }
  for (let a = 0; a < dim; a++) for (let b = a; b < dim; b++) cov[b * dim + a] = cov[a * dim + b] /= Math.max(1, n - 1);
  let total = 0;
  for (let d = 0; d < dim; d++) total += cov[d * dim + d];
  const first = topEigenvector(cov, dim);
  deflate(cov, dim, first);
  const second = topEigenvector(cov, dim);
  const coords = new Float64Array(2 * n);
  for (let r = 0; r < n; r++) {
    for (let d = 0; d < dim; d++) {
      const c = data[r * dim + d] - mean[d];
      coords[2 * r] += c * first.vector[d];
      coords[2 * r + 1] += c * second.vector[d];
    }
  }
  const share = (v: number) => (total > 0 ? v / total : 0);
  return { coords, explained: [share(first.value), share(second.value)] };
}

/** Power iteration from a fixed start; the sign is fixed so the largest component is positive. */
function topEigenvector(matrix: Float64Array, dim: number): { vector: Float64Array; value: number } {
  let v = new Float64Array(dim).map((_, d) => 1 / Math.sqrt(dim) + d * 1e-3);
  let value = 0;
  for (let iteration = 0; iteration < 300; iteration++) {
    const next = new Float64Array(dim);
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) next[a] += matrix[a * dim + b] * v[b];
    const norm = Math.hypot(...next);
    if (norm === 0) break;
    next.forEach((x, d) => { next[d] = x / norm; });
    const change = next.reduce((s, x, d) => s + Math.abs(x - v[d]), 0);
    v = next;
    value = norm;
    if (change < 1e-10) break;
  }
  const largest = v.reduce((best, x, d) => (Math.abs(x) > Math.abs(v[best]) ? d : best), 0);
  if (v[largest] < 0) v = v.map((x) => -x);
  return { vector: v, value };
}

/** Removes an eigenvector's component from a symmetric matrix, so the next power iteration finds the next axis. */
function deflate(matrix: Float64Array, dim: number, { vector, value }: { vector: Float64Array; value: number }): void {
  for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) matrix[a * dim + b] -= value * vector[a] * vector[b];
}
