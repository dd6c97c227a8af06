// `builtin:color`: image features without a model. A CIELAB colour histogram of the product
// (pixels that differ from the background, estimated from the image border) plus simple shape
// and texture statistics: foreground area, centroid, spread, and edge density/direction.
import type { RgbImage } from './image.js';

/** Images are analysed at this size: enough for colour and coarse shape, cheap to decode. */
export const COLOR_SIZE = 64;
/** Bins per Lab axis of the joint histogram (L 0–100, a and b −80–80). */
const BINS = 4;
/** ΔE (CIE76) from the background colour above which a pixel counts as product. */
const FOREGROUND_DELTA_E = 15;
/** |∇L| (L units per pixel) above which a pixel counts as an edge. */
const EDGE_THRESHOLD = 8;

export const COLOR_FEATURE_DIM = BINS ** 3 + 6 + 6 + 4;

function srgbToLinear(v: number): number {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

const LINEAR = Float64Array.from({ length: 256 }, (_, v) => srgbToLinear(v));

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116;
}

/** sRGB (D65) → CIELAB, as planar L, a, b arrays. */
export function toLab(image: RgbImage): [Float64Array, Float64Array, Float64Array] {
  const n = image.size * image.size;
  const L = new Float64Array(n);
  const A = new Float64Array(n);
  const B = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const r = LINEAR[image.data[3 * p]];
    const g = LINEAR[image.data[3 * p + 1]];
    const b = LINEAR[image.data[3 * p + 2]];
    const fx = labF((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047);
    const fy = labF(0.2126 * r + 0.7152 * g + 0.0722 * b);
    const fz = labF((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
    L[p] = 116 * fy - 16;
    A[p] = 500 * (fx - fy);
    B[p] = 200 * (fy - fz);
  }
  return [L, A, B];
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[sorted.length >> 1];
}

/** Foreground mask: far from the border's median colour; everything when that leaves (almost) nothing. */
function foregroundMask(lab: Float64Array[], size: number): Uint8Array {
  const border: number[] = [];
  for (let k = 0; k < size; k++) border.push(k, (size - 1) * size + k, k * size, k * size + size - 1);
  const background = lab.map((channel) => median(border.map((p) => channel[p])));
  const mask = new Uint8Array(size * size);
  let count = 0;
  for (let p = 0; p < mask.length; p++) {
    const d = Math.hypot(lab[0][p] - background[0], lab[1][p] - background[1], lab[2][p] - background[2]);
    if (d > FOREGROUND_DELTA_E) count += mask[p] = 1;
  }
  if (count < mask.length / 100) mask.fill(1);
  return mask;
}

function bin(value: number, lo: number, hi: number): number {
  return Math.min(BINS - 1, Math.max(0, Math.floor(((value - lo) / (hi - lo)) * BINS)));
}

/** The feature vector of one decoded image (COLOR_FEATURE_DIM values, deterministic). */
export function colorFeatures(image: RgbImage): Float32Array {
  const { size } = image;
  const lab = toLab(image);
  const [L, A, B] = lab;
  const mask = foregroundMask(lab, size);
  const out = new Float32Array(COLOR_FEATURE_DIM);
  let n = 0;
  const sum = [0, 0, 0, 0, 0];
  const sq = [0, 0, 0, 0, 0];
  let xy = 0;
  let edges = 0;
  let gradient = 0;
  let gx = 0;
  let gy = 0;
  let area = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      area += mask[p];
      if (!mask[p]) continue;
      n++;
      out[(bin(L[p], 0, 100) * BINS + bin(A[p], -80, 80)) * BINS + bin(B[p], -80, 80)] += 1;
      const values = [L[p] / 100, A[p] / 100, B[p] / 100, x / (size - 1), y / (size - 1)];
      values.forEach((v, k) => {
        sum[k] += v;
        sq[k] += v * v;
      });
      xy += values[3] * values[4];
      // Central differences inside the image, one-sided at its edge.
      const dx = (L[y * size + Math.min(size - 1, x + 1)] - L[y * size + Math.max(0, x - 1)]) / 2;
      const dy = (L[Math.min(size - 1, y + 1) * size + x] - L[Math.max(0, y - 1) * size + x]) / 2;
      const g = Math.hypot(dx, dy);
      if (g > EDGE_THRESHOLD) edges++;
      gradient += g;
      gx += Math.abs(dx);
      gy += Math.abs(dy);
    }
  }
  const H = BINS ** 3;
  for (let k = 0; k < H; k++) out[k] /= n;
  const mean = sum.map((s) => s / n);
  const sd = sq.map((s, k) => Math.sqrt(Math.max(0, s / n - mean[k] ** 2)));
  // Colour: mean and spread of L, a, b over the product.
  out.set([mean[0], mean[1], mean[2], sd[0], sd[1], sd[2]], H);
  // Shape: area share, centroid, spread and x–y correlation of the product's pixels.
  const correlation = sd[3] > 0 && sd[4] > 0 ? (xy / n - mean[3] * mean[4]) / (sd[3] * sd[4]) : 0;
  out.set([area / (size * size), mean[3], mean[4], sd[3], sd[4], correlation], H + 6);
  // Texture: edge density, mean gradient, and horizontal vs vertical gradient energy (stripe direction).
  out.set([edges / n, gradient / n / 100, gx / n / 100, gy / n / 100], H + 12);
  return out;
}
