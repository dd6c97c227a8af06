// A validation split carved from a split's training pairs by the protocol that made the split: what `vasg tune`,
// the baselines' tuning and the cold-bias calibration (model/item-bias.ts) judge on, so the test pairs are never seen.
import type { Dataset, Split } from './types.js';
import { prepareSplit } from './split.js';
import { DEFAULT_TEST_FRACTION, prepareTimeSplit } from './time-split.js';
import { largeFloat32Array } from '../core/memory.js';

export interface ValidationOptions {
  /** How to split the training pairs again (default: the split's own protocol; random for older and production splits). */
  protocol?: 'random' | 'time';
  /** Copy the warm products' features into the validation split (default true); false gives a 1-wide zero matrix, for callers that only count. */
  features?: boolean;
}

/**
 * Validation split: the training pairs of `split` as a data set (its cold products left out), split
 * again the way `prepare` made `split`: random (one held-out product per user, a balanced cold
 * product set) or, for a time split, at the same test fraction of the training period.
 */
export function validationSplit(split: Split, seed: number, options: ValidationOptions = {}): Split {
  const warmItems: number[] = [];
  for (let i = 0; i < split.itemIds.length; i++) if (split.warm[i]) warmItems.push(i);
  const newIndex = new Int32Array(split.itemIds.length).fill(-1);
  warmItems.forEach((i, k) => (newIndex[i] = k));
  const cols = options.features === false ? 1 : split.features.cols;
  const features = largeFloat32Array(warmItems.length * cols);
  if (options.features !== false) warmItems.forEach((i, k) => features.set(split.features.data.subarray(i * cols, (i + 1) * cols), k * cols));
  const dataset: Dataset = {
    userIds: split.userIds,
    itemIds: warmItems.map((i) => split.itemIds[i]),
    items: warmItems.map((i) => split.items[i]),
    interactions: { ...split.train, items: Int32Array.from(split.train.items, (i) => newIndex[i]) },
    features: { data: features, rows: warmItems.length, cols },
  };
  const protocol = options.protocol ?? (split.summary.split === 'time' ? 'time' : 'random');
  if (protocol === 'time') return prepareTimeSplit(dataset, { minInteractions: 2, seed, testFraction: split.summary.testFraction ?? DEFAULT_TEST_FRACTION });
  return prepareSplit(dataset, { minInteractions: 2, seed, coldPolicy: 'balanced' });
}
