// What BPR-MF and VBPR share: the options record, (u, i, j) triple sampling for Bayesian
// Personalized Ranking (Rendle et al. 2009, "LearnBPR"), and the epoch loop around a
// method's batch step. One place, so both baselines see exactly the same triples for a seed.
import type { Split } from '../data/types.js';
import { Rng } from '../data/random.js';
import type { Progress } from '../progress.js';
import { integer, number, option, seedOption, threadsOption, type OptionSpec, type ValueType } from './options.js';

/** Options common to the BPR-trained baselines. */
export interface BprOptions {
  /** Latent factors K of γ_u, γ_i. */
  latent: number;
  /** Passes over the training pairs; each pass gives every pair one fresh negative. */
  epochs: number;
  /** SGD learning rate (ascent on Σ ln σ(x_uij)). */
  lr: number;
  /** L2 weight λ on the factors and biases a triple touches, applied at each touch. */
  reg: number;
  /** Triples per batch: scores are computed for the whole batch before any update. */
  batchSize: number;
  seed: number;
  /** BLAS threads (VBPR's GEMMs); BPR-MF runs on one thread whatever this is. */
  threads: number;
}

/** A batch of sampled triples: user u prefers training item pos[b] to non-training item neg[b]. Buffers are reused. */
export interface BprBatch {
  users: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
  /** Weight of each triple's step (the split's pairWeights); null when every pair weighs 1. */
  weight?: Float32Array | null;
  size: number;
}

/** The per-method defaults of the BPR options (threads and seed default alike for every model). */
export type BprDefaults = Pick<BprOptions, 'latent' | 'epochs' | 'lr' | 'reg' | 'batchSize'>;

/** The option table of a BPR-trained model, with that model's defaults. */
export function bprOptionTable<C extends BprOptions>(defaults: BprDefaults): Array<OptionSpec<C>> {
  const row = <K extends keyof BprOptions>(key: K, flag: string, description: string, type: ValueType<BprOptions[K]>) =>
    option<C, K>(key, flag, description, defaults[key as keyof BprDefaults] as C[K], type as ValueType<C[K]>);
  return [
    row('latent', '--latent <n>', 'latent factors K of γ_u, γ_i', integer(0, 4096)),
    row('epochs', '--epochs <n>', 'passes over the training pairs, one fresh negative per pair', integer(0, 10000)),
    row('lr', '--lr <x>', 'SGD learning rate', number(1e-8, 10)),
    row('reg', '--reg <x>', 'L2 weight on the factors and biases a triple touches', number(0, 100)),
    row('batchSize', '--batch-size <n>', 'triples per batch (scored before any update)', integer(1, 1 << 20)),
    seedOption<C>() as OptionSpec<C>,
    threadsOption<C>() as OptionSpec<C>,
  ] as Array<OptionSpec<C>>;
}

/**
 * Draws BPR triples from a split. Positives: every training pair once per epoch, in a fresh random order.
 * Negatives: uniform over the *warm* products the user has not bought. Cold products are never drawn —
 * they stand for products unknown at training time, and drawing them would teach the model that they are
 * disliked (and, for VBPR, what they look like).
 */
export class BprSampler {
  readonly nUsers: number;
  readonly nItems: number;
  /** Training pairs kept (users whose every warm product is bought have no negative and are skipped). */
  readonly pairUsers: Int32Array;
  readonly pairItems: Int32Array;
  readonly pairWeights: Float32Array | null;
  private readonly warmItems: Int32Array;
  /** Keys u·nItems + i of the training pairs. */
  private readonly seen: Set<number>;

  constructor(split: Split) {
    this.nUsers = split.userIds.length;
    this.nItems = split.itemIds.length;
    const warm: number[] = [];
    for (let i = 0; i < this.nItems; i++) if (split.warm[i]) warm.push(i);
    this.warmItems = Int32Array.from(warm);
    const { users, items } = split.train;
    this.seen = new Set();
    const perUser = new Int32Array(this.nUsers);
    for (let e = 0; e < users.length; e++) {
      const key = users[e] * this.nItems + items[e];
      if (!this.seen.has(key)) perUser[users[e]]++;
      this.seen.add(key);
    }
    const keep: number[] = [];
    for (let e = 0; e < users.length; e++) if (perUser[users[e]] < this.warmItems.length) keep.push(e);
    this.pairUsers = Int32Array.from(keep, (e) => users[e]);
    this.pairItems = Int32Array.from(keep, (e) => items[e]);
    const weights = split.pairWeights;
    this.pairWeights = weights ? Float32Array.from(keep, (e) => weights[e]) : null;
  }

  /** A uniform warm product that `u` has not bought (rejection sampling; the constructor made sure one exists). */
  negative(rng: Rng, u: number): number {
    const base = u * this.nItems;
    for (;;) {
      const j = this.warmItems[rng.int(this.warmItems.length)];
      if (!this.seen.has(base + j)) return j;
    }
  }

  /** One epoch of batches. The yielded batch object and its buffers are reused: consume each before the next. */
  *epoch(rng: Rng, batchSize: number): Generator<BprBatch> {
    const order = rng.permutation(this.pairUsers.length);
    const batch: BprBatch = { users: new Int32Array(batchSize), pos: new Int32Array(batchSize), neg: new Int32Array(batchSize),
      weight: this.pairWeights ? new Float32Array(batchSize) : null, size: 0 };
    for (let start = 0; start < order.length; start += batchSize) {
      batch.size = Math.min(batchSize, order.length - start);
      for (let b = 0; b < batch.size; b++) {
        const e = order[start + b];
        const u = this.pairUsers[e];
        batch.users[b] = u;
        batch.pos[b] = this.pairItems[e];
        batch.neg[b] = this.negative(rng, u);
        if (batch.weight) batch.weight[b] = this.pairWeights![e];
      }
      yield batch;
    }
  }
}

/** -ln σ(x), computed without overflow. */
export function bprLoss(x: number): number {
  return x > 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x));
}

/** σ(-x) = d(ln σ(x))/dx: the weight of a triple's ascent step. */
export function bprWeight(x: number): number {
  return 1 / (1 + Math.exp(x));
}

/**
 * The epoch loop shared by the BPR baselines: `step` updates the model on one batch and returns the batch's
 * summed loss Σ -ln σ(x_uij). Returns the mean loss per triple of each epoch.
 */
export function runBprEpochs(label: string, sampler: BprSampler, options: BprOptions, rng: Rng, progress: Progress,
  step: (batch: BprBatch) => number): number[] {
  const losses: number[] = [];
  const triples = sampler.pairUsers.length;
  progress.start(label, options.epochs);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    let loss = 0;
    for (const batch of sampler.epoch(rng, options.batchSize)) loss += step(batch);
    losses.push(triples ? loss / triples : NaN);
    progress.update(epoch + 1, `loss ${losses[epoch].toFixed(4)}`);
  }
  progress.finish(losses.length ? `loss ${losses[losses.length - 1].toFixed(4)}` : undefined);
  return losses;
}
