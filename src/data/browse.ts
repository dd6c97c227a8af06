// Browsing events for a generated data set: views and carts beside the purchases, so typed-event training can be
// measured against a known truth. Views and carts are noisier signals of taste than purchases: they are drawn from
// the same true scores at a higher temperature (a softer preference), and a share of views is random browsing.
import { native } from '../native.js';
import { Rng } from './random.js';
import { sampleWithoutReplacement } from './generate.js';
import type { Dataset, Interactions } from './types.js';

export interface BrowsingOptions {
  /** Views per purchase of each user (0: none). */
  viewsPerPurchase: number;
  /** Carts per purchase of each user (0: none). */
  cartsPerPurchase: number;
}

/** Temperature of each event type on the true scores (purchases: 1), and the share of views drawn uniformly. */
const VIEW_TEMPERATURE = 3;
const CART_TEMPERATURE = 1.5;
const RANDOM_VIEWS = 0.3;

/**
 * The data set with `view` and `cart` events added (event types on every pair, purchases typed `purchase`). Each
 * user views/carts products they did not buy, at times inside the span of their purchases. Deterministic in `seed`.
 */
export function addBrowsing<D extends Omit<Dataset, 'features'>>(dataset: D, options: BrowsingOptions, seed: number): D {
  if (!dataset.truth) throw new Error('addBrowsing: the data set has no ground truth to draw views and carts from');
  const src = dataset.interactions;
  const nUsers = dataset.userIds.length;
  const bought: number[][] = Array.from({ length: nUsers }, () => []);
  const first = new Float64Array(nUsers).fill(Infinity);
  const last = new Float64Array(nUsers).fill(-Infinity);
  for (let k = 0; k < src.users.length; k++) {
    const u = src.users[k];
    bought[u].push(src.items[k]);
    first[u] = Math.min(first[u], src.timestamps[k]);
    last[u] = Math.max(last[u], src.timestamps[k]);
  }
  const rng = new Rng(seed).fork(7);
  const out = { users: [...src.users], items: [...src.items], ratings: [...src.ratings], timestamps: [...src.timestamps], types: Array.from(src.users, () => 1) };
  const { users: U, items: P } = dataset.truth;
  const n = P.rows;
  const row = new Float32Array(n);
  const scaled = new Float32Array(n);
  const cum = new Float64Array(n);
  const mark = new Int32Array(n);
  const chosen: number[] = [];
  let stamp = 0;
  for (let u = 0; u < nUsers; u++) {
    if (bought[u].length === 0) continue;
    native.sgemm(false, true, 1, n, U.cols, 1, U.data.subarray(u * U.cols, (u + 1) * U.cols), U.cols, P.data, P.cols, 0, row, n);
    const draws: Array<[number, number, number]> = [[2, CART_TEMPERATURE, Math.round(options.cartsPerPurchase * bought[u].length)],
      [4, VIEW_TEMPERATURE, Math.round(options.viewsPerPurchase * bought[u].length)]];
    stamp++;
    for (const i of bought[u]) mark[i] = stamp;
    for (const [bit, temperature, count] of draws) {
      const random = bit === 4 ? Math.round(RANDOM_VIEWS * count) : 0;
      for (let i = 0; i < n; i++) scaled[i] = row[i] / temperature;
      const available = n - countMarked(mark, stamp);
      // Every draw may pick any product (limit n): browsing is not held to release times.
      sampleWithoutReplacement(scaled, new Array<number>(Math.min(count - random, available)).fill(n), rng, cum, mark, stamp, chosen);
      const picked = [...chosen];
      for (let r = 0; r < random && picked.length < available; r++) {
        const i = rng.int(n);
        if (mark[i] !== stamp) picked.push(i);
        mark[i] = stamp;
      }
      for (const i of picked) {
        out.users.push(u);
        out.items.push(i);
        out.ratings.push(1);
        out.timestamps.push(Math.floor(first[u] + (last[u] - first[u]) * rng.next()));
        out.types.push(bit);
      }
    }
  }
  const interactions: Interactions = {
    users: Int32Array.from(out.users),
    items: Int32Array.from(out.items),
    ratings: Float32Array.from(out.ratings),
    timestamps: Float64Array.from(out.timestamps),
    events: { typeNames: ['purchase', 'cart', 'view'], types: Uint32Array.from(out.types), firstSeen: ['generated', 'generated', 'generated'] },
  };
  return { ...dataset, interactions };
}

function countMarked(mark: Int32Array, stamp: number): number {
  let count = 0;
  for (const m of mark) if (m === stamp) count++;
  return count;
}
