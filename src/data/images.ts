// Product images for generated data: a small PNG per product whose shape (by category, with an
// aspect ratio and size), colour (hue, saturation, lightness) and stripe texture (period,
// angle, contrast) follow the product's latent style, with nuisance variation the style does not
// explain: background tint, position, scale and pixel noise. Drawn at twice the size and
// downsampled (anti-aliasing), encoded with sharp.
import sharp from 'sharp';
import { Rng } from './random.js';
import { checkOutputDirectory, writeDirectoryAtomic } from './atomic.js';
import type { ProductStyles } from './generate.js';
import type { Dataset } from './types.js';
import type { Progress } from '../progress.js';

export const IMAGE_SIZE = 64;
const SUPERSAMPLE = 2;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return 255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1)));
  };
  return [f(0), f(8), f(4)];
}

/** Inside test of the category's silhouette in unit coordinates (|u|, |v| ≤ 1 at its box). */
const SHAPES: Array<(u: number, v: number) => boolean> = [
  (u, v) => Math.abs(u) <= 1 && Math.abs(v) <= 1, // rectangle
  (u, v) => u * u + v * v <= 1, // ellipse
  (u, v) => v <= 1 && v >= -1 && Math.abs(u) <= (v + 1) / 2, // triangle, point up
  (u, v) => Math.abs(u) + Math.abs(v) <= 1, // diamond
  (u, v) => u * u + v * v <= 1 && u * u + v * v >= 0.3, // ring
  (u, v) => Math.abs(u) <= 1 && Math.abs(v) <= 1 && !(v < -0.2 && Math.abs(u) < 0.35), // arch (trousers)
];

/** Raw RGB pixels of product `i` at `side × side`. */
function drawProduct(styles: ProductStyles, i: number, rng: Rng, side: number): Uint8Array {
  const s = styles.style.subarray(i * styles.styleDim, (i + 1) * styles.styleDim);
  const at = (d: number) => (d < s.length ? s[d] : 0);
  const shape = SHAPES[styles.category[i] % SHAPES.length];
  const colour = hslToRgb((Math.atan2(at(1), at(2)) * 180) / Math.PI + 360, 0.35 + 0.6 * sigmoid(at(3)), 0.25 + 0.5 * sigmoid(at(4)));
  const aspect = Math.exp(0.3 * at(0));
  const period = side * (0.08 + 0.2 * sigmoid(at(5)));
  const angle = Math.atan2(at(6), at(7));
  const contrast = 0.6 * sigmoid(at(8) + at(10));
  // Nuisance: background tint, offset, scale, noise.
  const background = hslToRgb(360 * rng.next(), 0.15 * rng.next(), 0.82 + 0.15 * rng.next());
  const half = side * (0.27 + 0.05 * Math.tanh(at(9))) * (0.9 + 0.2 * rng.next());
  const cx = side / 2 + (rng.next() - 0.5) * side * 0.2;
  const cy = side / 2 + (rng.next() - 0.5) * side * 0.2;
  const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
  const out = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const inside = shape((x - cx) / (half * aspect), (y - cy) / (half / aspect));
      let rgb: number[] = background;
      if (inside) {
        const stripe = Math.sin((2 * Math.PI * (x * cos + y * sin)) / period) > 0 ? 1 - contrast : 1;
        rgb = colour.map((c) => c * stripe);
      }
      for (let c = 0; c < 3; c++) out[(y * side + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(rgb[c])));
    }
  }
  return out;
}

/** One PNG per product, in product order; the same (styles, seed) always gives the same bytes. */
export async function renderProductImages(styles: ProductStyles, seed: number, progress: Progress): Promise<Buffer[]> {
  const n = styles.category.length;
  const rng = new Rng(seed).fork(11);
  const side = IMAGE_SIZE * SUPERSAMPLE;
  const images: Buffer[] = [];
  progress.start('render images', n);
  for (let i = 0; i < n; i++) {
    const pixels = drawProduct(styles, i, rng, side);
    const noisy = await sharp(pixels, { raw: { width: side, height: side, channels: 3 } }).resize(IMAGE_SIZE, IMAGE_SIZE).raw().toBuffer();
    for (let k = 0; k < noisy.length; k++) noisy[k] = Math.max(0, Math.min(255, noisy[k] + Math.round(6 * (rng.next() - 0.5))));
    images.push(await sharp(noisy, { raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 3 } }).png().toBuffer());
    progress.update(i + 1);
  }
  progress.finish();
  return images;
}

/**
 * Renders every product's PNG into `dir` (<item_id>.png, one atomic directory write) and names it in the
 * data set's image_url, relative to `dir` (as `vasg features --images dir` and `vasg serve --images dir` find it).
 */
export async function writeProductImages(dir: string, dataset: Pick<Dataset, 'itemIds' | 'items'>, styles: ProductStyles, seed: number, progress: Progress): Promise<void> {
  // Checked before rendering: minutes of images are not lost to a folder that cannot be written.
  checkOutputDirectory(dir, `${dataset.itemIds[0]}.png`);
  const images = await renderProductImages(styles, seed, progress);
  writeDirectoryAtomic(dir, dataset.itemIds.map((id, i) => [`${id}.png`, images[i]]));
  dataset.items.forEach((meta, i) => (meta.imageUrl = `${dataset.itemIds[i]}.png`));
}
