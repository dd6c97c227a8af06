// Training input for production: a whole data set (standard layout) as one training set, with no held-out
// test. Every catalogue product stays in: bought ones are learned, never-bought ones are cold (embedded by the
// encoder from their image features, and recommendable). `loadTrainingData` tells this layout from a prepared split.
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { silentProgress, type Progress } from '../progress.js';
import { recoverDirectory } from './atomic.js';
import { DATASET_FILES, loadDataset } from './dataset.js';
import { checkEnoughWarm, checkNotDegenerate, loadSplit, SPLIT_FILES } from './split.js';
import type { Dataset, Split } from './types.js';

/** What `vasg train --data` was given: a prepared split (evaluation path) or a data set (production). */
export type TrainingLayout = 'split' | 'dataset';

/**
 * All interactions as training pairs, the whole catalogue as products. Users with no interaction are left out
 * (nothing to learn them from) and counted; nothing is held out, so `test` is empty.
 */
export function productionSplit(dataset: Dataset): Split {
  checkNotDegenerate(dataset);
  const src = dataset.interactions;
  const bought = new Uint8Array(dataset.itemIds.length);
  const active = new Uint8Array(dataset.userIds.length);
  for (let k = 0; k < src.users.length; k++) {
    bought[src.items[k]] = 1;
    active[src.users[k]] = 1;
  }
  const newUser = new Int32Array(dataset.userIds.length).fill(-1);
  const userIds: string[] = [];
  active.forEach((a, u) => {
    if (a) newUser[u] = userIds.push(dataset.userIds[u]) - 1;
  });
  const warmItems = bought.reduce((sum, b) => sum + b, 0);
  checkEnoughWarm('train', warmItems);
  return {
    userIds,
    itemIds: dataset.itemIds,
    items: dataset.items,
    warm: bought,
    train: { ...src, users: Int32Array.from(src.users, (u) => newUser[u]) },
    test: { users: new Int32Array(0), items: new Int32Array(0) },
    features: dataset.features,
    summary: {
      users: userIds.length,
      items: dataset.itemIds.length,
      warmItems,
      coldItems: dataset.itemIds.length - warmItems,
      trainPairs: src.users.length,
      testWarm: 0,
      testCold: 0,
      featureDim: dataset.features.cols,
      filtered: { usersWithoutInteractions: dataset.userIds.length - userIds.length },
      seed: 0,
      minInteractions: 1,
      coldPolicy: 'never-bought',
    },
  };
}

/**
 * Loads `dir` as a prepared split (it holds summary.json) or as a data set in the standard layout (it holds
 * interactions.csv), validated as `prepare` validates it; a data set becomes a production split.
 */
export function loadTrainingData(dir: string, progress: Progress = silentProgress): { layout: TrainingLayout; split: Split } {
  recoverDirectory(dir);
  const isSplit = fs.existsSync(path.join(dir, SPLIT_FILES.summary));
  const isDataset = fs.existsSync(path.join(dir, DATASET_FILES.interactions));
  if (isSplit && isDataset) {
    throw new InputError(`${dir}: holds both ${SPLIT_FILES.summary} (a prepared split) and ${DATASET_FILES.interactions} (a data set); expected one or the other`, dir);
  }
  if (isSplit) return { layout: 'split', split: loadSplit(dir) };
  if (isDataset) return { layout: 'dataset', split: productionSplit(loadDataset(dir, progress).dataset) };
  throw new InputError(`${dir}: expected a prepared split (${SPLIT_FILES.summary}, from "vasg prepare") or a data set in the standard layout ` +
    `(${DATASET_FILES.interactions}, ${DATASET_FILES.items}, ${DATASET_FILES.features}); found neither`, dir);
}
