// Replay experiment (docs/shop-loop.md): does incremental retraining keep up with retraining from scratch?
// The interactions are replayed in time order: a model is trained on the first part, then the rest arrives in
// batches; after each batch one model is retrained from scratch and one incrementally (from the previous
// incremental model), and both are evaluated on the batch that follows (what users did next).
import type { Dataset, Split } from '../data/types.js';
import { InputError } from '../errors.js';
import { productionSplit } from '../data/production.js';
import { DATASET_FILES } from '../data/dataset.js';
import { selectEvents } from '../data/events.js';
import { evaluateAuc, type AucResult } from '../eval/auc.js';
import type { TrainConfig } from '../model/config.js';
import { trainVasg } from '../model/train.js';
import type { VasgModel } from '../model/vasg-model.js';
import { retrainVasg } from '../methods/vasg.js';
import { silentProgress, type Progress } from '../progress.js';
import { summarize, type Stat } from './stats.js';

export interface ReplayOptions {
  /** Batches the later interactions arrive in. */
  batches: number;
  /** Share of the interactions (by time) the first model is trained on. */
  initialFraction: number;
  /** Training config of the from-scratch models (and the shape of the incremental ones). */
  config: TrainConfig;
  /** Flags of the incremental runs (the rest: the model's shape and INCREMENTAL_SCHEDULE). */
  incremental: Partial<TrainConfig>;
  progress?: Progress;
}

/** Quality of one model on the next batch: AUC, Recall@20, NDCG@20 on warm and new (never bought so far) products. */
export interface ReplayQuality {
  auc: { warm: number; new: number; combined: number };
  recall20: { warm: number; new: number };
  ndcg20: { warm: number; new: number };
  seconds: number;
}

export interface ReplayRound {
  /** Batches fed so far (1-based); the model is evaluated on batch `batch + 1`. */
  batch: number;
  trainPairs: number;
  users: number;
  /** Test pairs of the next batch: by known users, not bought before, on warm and on new products. */
  testWarm: number;
  testNew: number;
  /** Next-batch pairs of users the models have never seen (not evaluated: a new user has no vector yet). */
  skippedNewUsers: number;
  scratch: ReplayQuality;
  incremental: ReplayQuality;
}

export interface ReplayResult {
  interactions: number;
  initialPairs: number;
  batchPairs: number[];
  /** From the first timestamp to the last, in days; and the time that splits initial data from the batches. */
  spanDays: number;
  cutTime: string;
  initialSeconds: number;
  rounds: ReplayRound[];
  /** Each arm's quality and time as mean ± sd over the rounds, in the rows form of the other experiments (docs:results renders them). */
  rows: ReplayRow[];
  /** Means over the rounds, and the goal checked on them. */
  summary: {
    aucGap: number;
    recallRelativeGap: number;
    timeRatio: number;
    goal: { aucWithin: number; recallWithin: number; timeAtMost: number; met: boolean };
  };
}

export interface ReplayRow {
  method: 'full retraining' | 'incremental';
  combined: Stat;
  warm: Stat;
  new: Stat;
  'recall@20': { warm: Stat; new: Stat };
  'ndcg@20': { warm: Stat; new: Stat };
  seconds: Stat;
}

/** The goal of issue 17: incremental within 0.005 AUC and 5 % relative Recall@20 of full retraining, at ≤ 30 % of its time. */
export const REPLAY_GOAL = { aucWithin: 0.005, recallWithin: 0.05, timeAtMost: 0.3 };

/** Positions of the interactions in time order (stable: equal times keep file order); every pair needs a timestamp. */
function timeOrder(dataset: Dataset): Int32Array {
  const { timestamps } = dataset.interactions;
  const missing = timestamps.findIndex((t) => Number.isNaN(t));
  if (missing >= 0) {
    throw new InputError(`${DATASET_FILES.interactions}: the replay orders interactions by time, but the pair of user "${dataset.userIds[dataset.interactions.users[missing]]}" ` +
      `and item "${dataset.itemIds[dataset.interactions.items[missing]]}" has no timestamp`, DATASET_FILES.interactions, undefined, 'timestamp');
  }
  return Int32Array.from(timestamps.keys()).sort((a, b) => timestamps[a] - timestamps[b] || a - b);
}

/** The data set with only the interactions at `positions` (same catalogue: products not bought yet are cold). */
function withInteractions(dataset: Dataset, positions: ArrayLike<number>): Dataset {
  const src = dataset.interactions;
  const at = (array: ArrayLike<number>) => Array.from(positions, (k) => array[k]);
  const interactions: Dataset['interactions'] = {
    users: Int32Array.from(at(src.users)),
    items: Int32Array.from(at(src.items)),
    ratings: Float32Array.from(at(src.ratings)),
    timestamps: Float64Array.from(at(src.timestamps)),
  };
  const events = selectEvents(src.events, positions);
  if (events) interactions.events = events;
  return { ...dataset, interactions };
}

/**
 * The model's training split with the next batch as test pairs: pairs of users the model knows, on products they had
 * not bought before. Warm/new follows the training data (a new product had no interaction before the batch).
 */
function nextBatchSplit(trained: Split, dataset: Dataset, positions: ArrayLike<number>): { split: Split; skippedNewUsers: number } {
  const userRow = new Map(trained.userIds.map((id, u) => [id, u]));
  const seen = new Set<number>();
  const nItems = trained.itemIds.length;
  for (let e = 0; e < trained.train.users.length; e++) seen.add(trained.train.users[e] * nItems + trained.train.items[e]);
  const users: number[] = [];
  const items: number[] = [];
  let skippedNewUsers = 0;
  for (let k = 0; k < positions.length; k++) {
    const p = positions[k];
    const u = userRow.get(dataset.userIds[dataset.interactions.users[p]]);
    if (u === undefined) {
      skippedNewUsers++;
      continue;
    }
    const item = dataset.interactions.items[p];
    const key = u * nItems + item;
    if (seen.has(key)) continue;
    seen.add(key);
    users.push(u);
    items.push(item);
  }
  return { split: { ...trained, test: { users: Int32Array.from(users), items: Int32Array.from(items) } }, skippedNewUsers };
}

async function quality(model: VasgModel, split: Split, seconds: number, threads: number): Promise<ReplayQuality> {
  const { users, items } = model.scoringMatrices();
  const r: AucResult = await evaluateAuc({ name: 'vasg', users, items }, split, threads);
  return {
    auc: { warm: r.warm, new: r.cold, combined: r.combined },
    recall20: { warm: r.recallAt20.warm, new: r.recallAt20.cold },
    ndcg20: { warm: r.ndcgAt20.warm, new: r.ndcgAt20.cold },
    seconds,
  };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/** Runs the replay: one initial model, then per batch a scratch and an incremental retrain, each evaluated on the next batch. */
export async function replayExperiment(dataset: Dataset, options: ReplayOptions): Promise<ReplayResult> {
  const progress = options.progress ?? silentProgress;
  const { config, batches } = options;
  const order = timeOrder(dataset);
  const n = order.length;
  const initial = Math.floor(n * options.initialFraction);
  if (initial < 1 || n - initial < batches) {
    throw new InputError(`${DATASET_FILES.interactions}: ${n} interactions cannot give an initial ${(100 * options.initialFraction).toFixed(0)} % and ${batches} non-empty batches`, DATASET_FILES.interactions);
  }
  const bounds = Array.from({ length: batches + 1 }, (_, b) => initial + Math.floor(((n - initial) * b) / batches));
  const upTo = (end: number) => order.subarray(0, end);
  const batch = (b: number) => order.subarray(bounds[b - 1], bounds[b]); // b = 1..batches
  const times = dataset.interactions.timestamps;

  let started = Date.now();
  progress.log(`replay: initial model on ${initial} interactions`);
  let incremental = (await trainVasg(productionSplit(withInteractions(dataset, upTo(initial))), config, silentProgress)).model;
  const initialSeconds = (Date.now() - started) / 1000;
  const rounds: ReplayRound[] = [];
  for (let b = 1; b < batches; b++) {
    const split = productionSplit(withInteractions(dataset, upTo(bounds[b])));
    started = Date.now();
    const scratch = (await trainVasg(split, config, silentProgress)).model;
    const scratchSeconds = (Date.now() - started) / 1000;
    started = Date.now();
    incremental = await retrainVasg(incremental, split, options.incremental, silentProgress);
    const incrementalSeconds = (Date.now() - started) / 1000;
    const { split: test, skippedNewUsers } = nextBatchSplit(split, dataset, batch(b + 1));
    const warmTest = Array.from(test.test.items).filter((i) => split.warm[i]).length;
    const round: ReplayRound = {
      batch: b,
      trainPairs: split.train.users.length,
      users: split.userIds.length,
      testWarm: warmTest,
      testNew: test.test.items.length - warmTest,
      skippedNewUsers,
      scratch: await quality(scratch, test, scratchSeconds, config.threads),
      incremental: await quality(incremental, test, incrementalSeconds, config.threads),
    };
    rounds.push(round);
    progress.log(`replay: after batch ${b}/${batches}: AUC scratch ${round.scratch.auc.combined.toFixed(4)} (${scratchSeconds.toFixed(1)} s), ` +
      `incremental ${round.incremental.auc.combined.toFixed(4)} (${incrementalSeconds.toFixed(1)} s)`);
  }
  const aucGap = mean(rounds.map((r) => r.scratch.auc.combined - r.incremental.auc.combined));
  const recallOf = (q: ReplayQuality, r: ReplayRound) => (q.recall20.warm * r.testWarm + (r.testNew ? q.recall20.new * r.testNew : 0)) / Math.max(1, r.testWarm + r.testNew);
  const scratchRecall = mean(rounds.map((r) => recallOf(r.scratch, r)));
  const recallRelativeGap = (scratchRecall - mean(rounds.map((r) => recallOf(r.incremental, r)))) / Math.max(1e-12, scratchRecall);
  const timeRatio = mean(rounds.map((r) => r.incremental.seconds)) / Math.max(1e-9, mean(rounds.map((r) => r.scratch.seconds)));
  const met = aucGap <= REPLAY_GOAL.aucWithin && recallRelativeGap <= REPLAY_GOAL.recallWithin && timeRatio <= REPLAY_GOAL.timeAtMost;
  return {
    interactions: n,
    initialPairs: initial,
    batchPairs: Array.from({ length: batches }, (_, b) => bounds[b + 1] - bounds[b]),
    spanDays: (times[order[n - 1]] - times[order[0]]) / 86400,
    cutTime: new Date(times[order[initial]] * 1000).toISOString(),
    initialSeconds,
    rounds,
    rows: [armRow('full retraining', rounds.map((r) => r.scratch)), armRow('incremental', rounds.map((r) => r.incremental))],
    summary: { aucGap, recallRelativeGap, timeRatio, goal: { ...REPLAY_GOAL, met } },
  };
}

/** The replay as a Markdown table (one row per round and arm) and the goal line. */
function armRow(method: ReplayRow['method'], rounds: ReplayQuality[]): ReplayRow {
  const over = (value: (q: ReplayQuality) => number) => summarize(rounds.map(value));
  return {
    method,
    combined: over((q) => q.auc.combined),
    warm: over((q) => q.auc.warm),
    new: over((q) => q.auc.new),
    'recall@20': { warm: over((q) => q.recall20.warm), new: over((q) => q.recall20.new) },
    'ndcg@20': { warm: over((q) => q.ndcg20.warm), new: over((q) => q.ndcg20.new) },
    seconds: over((q) => q.seconds),
  };
}

/** The summary against the goal, in one sentence (the report and docs:results print it). */
export function replaySummaryLine(summary: ReplayResult['summary']): string {
  const { goal } = summary;
  return `Mean over rounds: AUC gap (full − incremental) ${summary.aucGap.toFixed(4)} (goal ≤ ${goal.aucWithin}), ` +
    `relative Recall@20 gap ${(100 * summary.recallRelativeGap).toFixed(1)} % (goal ≤ ${100 * goal.recallWithin} %), ` +
    `time ratio ${(100 * summary.timeRatio).toFixed(0)} % (goal ≤ ${100 * goal.timeAtMost} %): goal ${goal.met ? 'met' : 'not met'}.`;
}

export function replaySection(result: ReplayResult): string {
  const f = (x: number) => (Number.isNaN(x) ? '–' : x.toFixed(4));
  const lines = [
    `Initial model: ${result.initialPairs} of ${result.interactions} interactions (up to ${result.cutTime}), ${result.initialSeconds.toFixed(1)} s; ` +
      `batches of ${result.batchPairs.join(', ')} interactions.`,
    '',
    '| after batch | arm | AUC | AUC warm | AUC new | Recall@20 warm | Recall@20 new | NDCG@20 warm | NDCG@20 new | seconds | test warm/new |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of result.rounds) {
    for (const [arm, q] of [['scratch', r.scratch], ['incremental', r.incremental]] as const) {
      lines.push(`| ${r.batch} | ${arm} | ${f(q.auc.combined)} | ${f(q.auc.warm)} | ${f(q.auc.new)} | ${f(q.recall20.warm)} | ${f(q.recall20.new)} | ` +
        `${f(q.ndcg20.warm)} | ${f(q.ndcg20.new)} | ${q.seconds.toFixed(1)} | ${r.testWarm}/${r.testNew} |`);
    }
  }
  lines.push('', replaySummaryLine(result.summary));
  return lines.join('\n');
}

