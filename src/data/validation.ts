// A validation split carved from a split's training pairs by the protocol that made the split: what `vasg tune`,
// the baselines' tuning and the cold-bias calibration (model/item-bias.ts) judge on, so the test pairs are never seen.
import type { Dataset, Features, Split } from './types.js';
import { selectFeatureRows } from './features.js';
import { prepareSplit } from './split.js';
import { DEFAULT_TEST_FRACTION, prepareTimeSplit } from './time-split.js';

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
  const dataset: Dataset<Features> = {
    userIds: split.userIds,
    itemIds: warmItems.map((i) => split.itemIds[i]),
    items: warmItems.map((i) => split.items[i]),
    interactions: { ...split.train, items: Int32Array.from(split.train.items, (i) => newIndex[i]) },
    // Warm rows in the split's storage type (float16 stays float16).
    features: options.features === false ? { data: new Float32Array(warmItems.length), rows: warmItems.length, cols: 1 } : selectFeatureRows(split.features, warmItems),
  };
  const protocol = options.protocol ?? (split.summary.split === 'time' ? 'time' : 'random');
  if (protocol === 'time') return prepareTimeSplit(dataset, { minInteractions: 2, seed, testFraction: split.summary.testFraction ?? DEFAULT_TEST_FRACTION });
  return prepareSplit(dataset, { minInteractions: 2, seed, coldPolicy: 'balanced' });
}
