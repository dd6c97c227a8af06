// Time split (docs/evaluation.md): train on the past, test on the future, as a shop is judged.
// One global cutoff at the (1 − F) quantile of the timestamps; each user active on both sides is
// tested on their first purchase after it; products first bought after it are the cold ones.
import { ConfigError, InputError } from '../errors.js';
import { DATASET_FILES } from './dataset.js';
import type { Dataset, Features, Split } from './types.js';
import type { NpyOnDisk } from './npy.js';
import { Rng } from './random.js';
import { assemble, checkEnoughWarm, checkNotDegenerate, groupByUser, lightUserFilter, splitCounts } from './split.js';
import { silentProgress, type Progress } from '../progress.js';

export const DEFAULT_TEST_FRACTION = 0.1;
/** Below this many test users the split still works, but `prepare` warns that its metrics are noisy. */
export const FEW_TEST_USERS = 100;

export interface TimeSplitOptions {
  /** F: the cutoff is the (1 − F) quantile of the timestamps; in (0, 0.5]. */
  testFraction?: number;
  /** Users with fewer interactions (both sides together) are removed first, as in the random split. */
  minInteractions?: number;
  /** Only breaks ties between a user's first purchases after the cutoff. */
  seed: number;
}

/** Parses --test-fraction: a number in (0, 0.5]. */
export function parseTestFraction(text: string): number {
  const f = Number(text);
  if (text.trim() === '' || !(f > 0 && f <= 0.5)) throw new Error(`test fraction: expected a number in (0, 0.5], found ${JSON.stringify(text)}`);
  return f;
}

/** Every interaction needs a time to fall on one side of the cutoff; missing ones are an error, not a guess. */
function checkTimestamps(dataset: Dataset<unknown>): void {
  const times = dataset.interactions.timestamps;
  let missing = 0;
  for (const t of times) if (Number.isNaN(t)) missing++;
  if (missing === times.length) {
    throw new InputError(`${DATASET_FILES.interactions}: has no timestamps (column "timestamp" missing or empty); --split time needs one on every interaction; use --split random`, DATASET_FILES.interactions, undefined, 'timestamp');
  }
  if (missing > 0) {
    throw new InputError(`${DATASET_FILES.interactions}: ${missing} of ${times.length} interactions have no timestamp; --split time needs one on every interaction`, DATASET_FILES.interactions, undefined, 'timestamp');
  }
}

/**
 * The (1 − F) quantile of the kept interactions' timestamps. Training is strictly before it, so
 * interactions tied at the cutoff all fall after it: the share after the cutoff is ≥ F.
 */
function cutoffTime(times: Float64Array, testFraction: number): number {
  const sorted = Float64Array.from(times).sort();
  const cutoff = sorted[Math.min(sorted.length - 1, Math.floor((1 - testFraction) * sorted.length))];
  if (cutoff <= sorted[0]) {
    const tied = sorted.filter((t) => t === cutoff).length;
    throw new ConfigError(`--split time --test-fraction ${testFraction}: the cutoff ${isoTime(cutoff)} is the earliest timestamp (${tied} of ${sorted.length} interactions share it), so nothing would be left to train on; the timestamps are too coarse for a time split`);
  }
  return cutoff;
}

function isoTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}

/** Splits at a global cutoff; see the module comment and docs/evaluation.md for every choice. */
export function prepareTimeSplit<F extends Features | NpyOnDisk>(dataset: Dataset<F>, options: TimeSplitOptions, progress: Progress = silentProgress): Split<F> {
  const testFraction = options.testFraction ?? DEFAULT_TEST_FRACTION;
  const minInteractions = options.minInteractions ?? 5;
  if (!(testFraction > 0 && testFraction <= 0.5)) throw new ConfigError(`--test-fraction: expected a number in (0, 0.5], found ${testFraction}`);
  checkNotDegenerate(dataset);
  checkTimestamps(dataset);
  const rng = new Rng(options.seed);
  const { interactions } = dataset;
  const nUsers0 = dataset.userIds.length;
  const nItems0 = dataset.itemIds.length;
  const filtered: Record<string, number> = {};
  progress.start('time split', 3);

  const activeUser = lightUserFilter(dataset, minInteractions, filtered);
  const byUser = groupByUser(interactions.users, nUsers0, (k) => activeUser(interactions.users[k]));
  const cutoff = cutoffTime(Float64Array.from(byUser.rows, (k) => interactions.timestamps[k]), testFraction);
  const before = (k: number) => interactions.timestamps[k] < cutoff;
  progress.update(1, `cutoff ${isoTime(cutoff)}`);

  const inTrain = new Uint8Array(interactions.users.length);
  const trainCount = new Int32Array(nItems0);
  const testItem = new Int32Array(nUsers0).fill(-1);
  const keptUser = new Uint8Array(nUsers0);
  Object.assign(filtered, { usersOnlyAfterCutoff: 0, interactionsOfUsersOnlyAfterCutoff: 0, laterInteractionsNotTested: 0, usersOnlyBeforeCutoff: 0 });
  let afterCutoff = 0;
  for (let u = 0; u < nUsers0; u++) {
    const positions = byUser.rows.subarray(byUser.indptr[u], byUser.indptr[u + 1]);
    const after = Array.from(positions).filter((k) => !before(k));
    afterCutoff += after.length;
    if (after.length === positions.length) {
      // Nothing before the cutoff (or a light user, with no positions): a user the model never saw.
      if (positions.length > 0) {
        filtered.usersOnlyAfterCutoff++;
        filtered.interactionsOfUsersOnlyAfterCutoff += positions.length;
      }
      continue;
    }
    keptUser[u] = 1;
    for (const k of positions) {
      if (before(k)) {
        inTrain[k] = 1;
        trainCount[interactions.items[k]]++;
      }
    }
    if (after.length === 0) {
      filtered.usersOnlyBeforeCutoff++;
      continue;
    }
    // The first purchase after the cutoff; ties (same second) broken by the seed.
    const first = Math.min(...after.map((k) => interactions.timestamps[k]));
    const tied = after.filter((k) => interactions.timestamps[k] === first);
    testItem[u] = interactions.items[tied[tied.length === 1 ? 0 : rng.int(tied.length)]];
    filtered.laterInteractionsNotTested += after.length - 1;
  }
  progress.update(2, 'test pairs');

  // Every catalogue product stays a candidate: what was bought before the cutoff is warm, the rest cold.
  const allItems = Array.from({ length: nItems0 }, (_, i) => i);
  const split = assemble(dataset, keptUser, allItems, inTrain, testItem, trainCount);
  const boughtAfter = new Uint8Array(nItems0);
  for (const k of byUser.rows) if (!before(k)) boughtAfter[interactions.items[k]] = 1;
  const newArrivals = allItems.filter((i) => trainCount[i] === 0 && boughtAfter[i]).length;
  const counts = splitCounts(split);
  const warnings: string[] = [];
  if (counts.testCold === 0) warnings.push('no test user\'s first purchase after the cutoff is a new product: cold metrics will be empty');
  if (split.test.users.length > 0 && split.test.users.length < FEW_TEST_USERS) {
    warnings.push(`only ${split.test.users.length} users bought both before and after the cutoff (test users); metrics on so few are noisy — consider a larger --test-fraction`);
  }
  split.summary = {
    ...counts,
    filtered,
    seed: options.seed,
    minInteractions,
    coldPolicy: 'time',
    split: 'time',
    cutoff,
    cutoffIso: isoTime(cutoff),
    testFraction,
    shareAfterCutoff: afterCutoff / byUser.rows.length,
    newArrivals,
    neverBought: counts.coldItems - newArrivals,
    warnings,
  };
  checkEnoughWarm('prepare', counts.warmItems);
  if (split.test.users.length === 0) {
    throw new ConfigError(`--split time --test-fraction ${testFraction}: no user bought both before and after the cutoff ${isoTime(cutoff)}, so there is nothing to evaluate; try a larger --test-fraction or --split random`);
  }
  progress.finish(`cutoff ${isoTime(cutoff)}: ${counts.users} users, ${counts.trainPairs} train pairs, test ${counts.testWarm} warm / ${counts.testCold} cold`);
  return split;
}
