// Training configuration of VASG (§3, §4.1) with documented defaults, and its validation.
// Defaults are what measured best on generated data (see README "Choosing the defaults");
// the paper's own settings are one flag away (`paperConfig`).
import { ConfigError } from '../errors.js';

export type Scoring = 'cosine' | 'dot';
export type EncoderObjective = 'autoencoder' | 'regress' | 'joint';

export interface TrainConfig {
  /** Embedding size D. */
  dim: number;
  /** Random walks started from every node, and their length (tokens). */
  walksPerNode: number;
  walkLength: number;
  /** Transition probability ∝ rating instead of uniform. */
  weightedWalks: boolean;
  /** Skip-gram window w (odd): centre ± (w-1)/2, as in the paper's "window 7". */
  window: number;
  /** Negative samples per pair; 0 = the paper's positive-only σ(X_c·X_v). */
  negatives: number;
  /** Negatives are drawn ∝ frequency^power (word2vec: 0.75; 0 = uniform, which leaves popularity in the scores). */
  negativePower: number;
  /** Passes over a fresh walk corpus. */
  epochs: number;
  /** Skip-gram SGD learning rate, decayed linearly to lr·1e-4 over training. */
  skipgramLr: number;
  /** Joint decoder M⁻¹ (multi-task with uncertainty weights); false = the "Skip-Gram" ablation. */
  decoder: boolean;
  /** Hidden widths of the decoder D → hidden → I (the encoder mirrors them). */
  hidden: number[];
  dropout: number;
  /** Adam learning rate of decoder and encoder. */
  lr: number;
  batchSize: number;
  /** Scale each product's image features to [0, 1] (reference implementation). */
  minMaxScale: boolean;
  /** Std of Gaussian noise added to embeddings before the decoder during joint training. */
  decoderNoise: number;
  /** Joint visual term: product vector = free part + E·f (E linear, trained by the skip-gram and decoder updates). */
  visual: boolean;
  /** Adam learning rate of E. */
  visualLr: number;
  /** BPR epochs of ranking refinement after the joint stage (0 = none, the paper's model), their SGD rate and L2 weight. */
  rankEpochs: number;
  rankLr: number;
  rankReg: number;
  /** Pre-train an autoencoder on image features (encoderSteps steps) and start product vectors and decoder from it. */
  pretrain: boolean;
  /**
   * How M(f) is learned: the paper's autoencoder through the frozen decoder, regression onto the warm embeddings,
   * or 'joint': M is the visual term's E itself (needs `visual`).
   */
  encoderObjective: EncoderObjective;
  /** Adam steps (minibatches) of encoder training, and of autoencoder pre-training: a fixed budget whatever the catalogue size. */
  encoderSteps: number;
  /** Dropout on the encoder's hidden layers (the paper's 0.5 measured far worse for cold products). */
  encoderDropout: number;
  /** Map encoder outputs onto the mean and spread of the warm vectors, per dimension. */
  calibrateCold: boolean;
  /** Std of Gaussian noise on encoder inputs (§6: +1.8% cold AUC). */
  encoderNoise: number;
  /** How users and products are compared: cosine (paper) or dot product (keeps the norm, which carries popularity). */
  scoring: Scoring;
  threads: number;
  seed: number;
}

export const defaultConfig: TrainConfig = {
  dim: 100,
  walksPerNode: 10,
  walkLength: 20,
  weightedWalks: false,
  window: 7,
  negatives: 5,
  negativePower: 0,
  epochs: 3,
  skipgramLr: 0.025,
  decoder: true,
  hidden: [256, 512, 1024, 2048],
  dropout: 0.5,
  lr: 1e-3,
  batchSize: 256,
  minMaxScale: true,
  decoderNoise: 0,
  visual: true,
  visualLr: 1e-3,
  rankEpochs: 10,
  rankLr: 0.05,
  rankReg: 0.03,
  pretrain: false,
  encoderObjective: 'joint',
  encoderSteps: 1000,
  encoderDropout: 0.1,
  calibrateCold: true,
  encoderNoise: 0.05,
  scoring: 'dot',
  threads: 2,
  seed: 1,
};

/** The paper's formulation, for comparison: no negative sampling, cosine ranking, autoencoder-trained encoder. */
export const paperConfig: Partial<TrainConfig> = {
  visual: false,
  rankEpochs: 0,
  negatives: 0,
  scoring: 'cosine',
  encoderObjective: 'autoencoder',
};

type Check = [keyof TrainConfig, (v: never) => boolean, string];

const isInt = (lo: number, hi = Number.MAX_SAFE_INTEGER) => (v: number) => Number.isInteger(v) && v >= lo && v <= hi;
const isNum = (lo: number, hi = Number.POSITIVE_INFINITY) => (v: number) => Number.isFinite(v) && v >= lo && v <= hi;

const checks: Check[] = [
  ['dim', isInt(1, 4096), 'an integer in [1, 4096]'],
  ['walksPerNode', isInt(1, 1000), 'an integer in [1, 1000]'],
  ['walkLength', isInt(2, 10000), 'an integer in [2, 10000]'],
  ['window', (v: number) => isInt(3, 101)(v) && v % 2 === 1, 'an odd integer in [3, 101]'],
  ['negatives', isInt(0, 100), 'an integer in [0, 100]'],
  ['negativePower', isNum(0, 2), 'a number in [0, 2]'],
  ['epochs', isInt(1, 1000), 'an integer in [1, 1000]'],
  ['skipgramLr', isNum(1e-6, 10), 'a number in [1e-6, 10]'],
  ['hidden', (v: number[]) => Array.isArray(v) && v.every(isInt(1, 65536)), 'a list of positive integers'],
  ['dropout', isNum(0, 0.95), 'a number in [0, 0.95]'],
  ['lr', isNum(1e-8, 1), 'a number in [1e-8, 1]'],
  ['batchSize', isInt(1, 65536), 'an integer in [1, 65536]'],
  ['decoderNoise', isNum(0, 100), 'a number ≥ 0'],
  ['encoderObjective', (v: string) => v === 'autoencoder' || v === 'regress' || v === 'joint', '"autoencoder", "regress" or "joint"'],
  ['visualLr', isNum(1e-8, 1), 'a number in [1e-8, 1]'],
  ['rankEpochs', isInt(0, 10000), 'an integer in [0, 10000]'],
  ['rankLr', isNum(1e-8, 10), 'a number in [1e-8, 10]'],
  ['rankReg', isNum(0, 100), 'a number in [0, 100]'],
  ['encoderSteps', isInt(0, 10_000_000), 'an integer in [0, 10000000]'],
  ['encoderDropout', isNum(0, 0.95), 'a number in [0, 0.95]'],
  ['encoderNoise', isNum(0, 100), 'a number ≥ 0'],
  ['scoring', (v: string) => v === 'cosine' || v === 'dot', '"cosine" or "dot"'],
  ['threads', isInt(1, 256), 'an integer in [1, 256]'],
  ['seed', isInt(0, 2 ** 31 - 1), 'an integer in [0, 2^31)'],
];

/** Returns a full, validated config; throws naming the first bad field. */
export function resolveConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  const config: TrainConfig = { ...defaultConfig, ...overrides };
  for (const [field, ok, expected] of checks) {
    const value = config[field];
    if (!(ok as (v: unknown) => boolean)(value)) {
      throw new ConfigError(`config: ${field} must be ${expected}, got ${JSON.stringify(value)}`, field);
    }
  }
  if (config.encoderObjective === 'joint' && !config.visual) {
    throw new ConfigError('config: encoderObjective "joint" uses the visual term\'s E; it needs visual (drop --no-visual or pick --encoder-objective regress)');
  }
  return config;
}
