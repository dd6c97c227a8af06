// Training configuration of VASG (§3, §4.1) with documented defaults, and its validation.
// Defaults are what measured best on generated data (see README "Choosing the defaults");
// the paper's own settings are one flag away (`paperConfig`).
import { ConfigError } from '../errors.js';
import { DEFAULT_EVENT_WEIGHTS, parseEventWeights, validEventWeights, type EventWeights } from '../data/events.js';
import {
  defaultsOf, integer, integerList, number, oddInteger, oneOf, onOff, option as makeOption, resolveOptions, seedOption, threadsOption,
  type OptionSpec, type ValueType,
} from '../core/options.js';

/** `--event-weights purchase=1,view=0.05`: malformed text parses to null, which `valid` rejects with the expected form. */
const eventWeightsType: ValueType<EventWeights> = {
  expected: 'a list of type=weight entries (weight ≥ 0) such as purchase=1,cart=0.5,click=0.2,view=0.05',
  parse: (text) => {
    try {
      return parseEventWeights(text);
    } catch {
      return null as unknown as EventWeights;
    }
  },
  valid: validEventWeights,
};

/** `--cold-exposure auto|off|x`: "auto" and "off" as words, a share as a number. */
export type ColdExposure = 'auto' | 'off' | number;
const coldExposureType: ValueType<ColdExposure> = {
  expected: '"auto", "off" or a share in [0, 1]',
  parse: (text) => (text === 'auto' || text === 'off' ? text : text.trim() === '' ? NaN : Number(text)),
  valid: (v) => v === 'auto' || v === 'off' || (typeof v === 'number' && v >= 0 && v <= 1),
};

export type Scoring = 'cosine' | 'dot';
export type EncoderObjective = 'autoencoder' | 'regress' | 'joint';
export type SimilarSpaceKind = 'metric' | 'embedding';

export interface TrainConfig {
  /** Embedding size D. */
  dim: number;
  /** Random walks started from every node, and their length (tokens). */
  walksPerNode: number;
  walkLength: number;
  /**
   * Incremental runs only (`--init-from`): extra walks per epoch from every user and product with purchases the
   * previous model did not see, so new users, new purchases and newly bought products get a full run's training.
   */
  newWalksPerNode: number;
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
  /**
   * Joint decoder M⁻¹ (multi-task with uncertainty weights), the paper's; off by default, since beside the visual term it
   * changes nothing measured (docs/training.md) and costs a sixth of training on `men`.
   */
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
  /** Negatives drawn per BPR triple; the highest-scoring one is trained on (1 = uniform BPR). */
  rankNegatives: number;
  /** Principal directions of the features E moves in during the ranking refinement (0 = all: full-width updates). */
  rankSubspace: number;
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
  /** Training weight of each event type (`event_type` column); a pair weighs as its strongest type. */
  eventWeights: EventWeights;
  /** Events this many days older than the newest count half (0: no decay). */
  halfLifeDays: number;
  /** How users and products are compared: cosine (paper) or dot product (keeps the norm, which carries popularity). */
  scoring: Scoring;
  /** Item bias added to every score (model/item-bias.ts): β·ln(1 + training purchases) for warm products (0 = none). */
  itemBias: number;
  /** With coldExposure "off", cold products get the bias of the warm product at this quantile of purchases… */
  coldPopularity: number;
  /** …plus this offset (score units). */
  coldOffset: number;
  /**
   * How the cold bias is set: "auto" (the cold share of test purchases of a validation split carved from training, as
   * the share of top-20 slots new products get), a share in [0, 1], or "off" (coldPopularity + coldOffset).
   */
  coldExposure: ColdExposure;
  /** What similar items rank by: a distance learned on co-purchased pairs over the embeddings, or their cosine (the paper's). */
  similar: SimilarSpaceKind;
  /** Rank and passes of the learned similar-items distance (model/similar-space.ts). */
  similarRank: number;
  similarEpochs: number;
  threads: number;
  seed: number;
}

/** One training option: its config key, CLI flag, help text, default and type (a row of CONFIG_OPTIONS). */
export type ConfigOption<K extends keyof TrainConfig = keyof TrainConfig> = OptionSpec<TrainConfig, K>;

const option = <K extends keyof TrainConfig>(key: K, flag: string, description: string, value: TrainConfig[K], type: ValueType<TrainConfig[K]>) =>
  makeOption<TrainConfig, K>(key, flag, description, value, type);

/**
 * Every training option, once: the CLI's flags (in this order) and `resolveConfig`'s defaults and checks
 * are generated from this table, so the two cannot disagree.
 */
export const CONFIG_OPTIONS: readonly ConfigOption[] = [
  option('dim', '--dim <n>', 'embedding size D', 100, integer(1, 4096)),
  option('walksPerNode', '--walks-per-node <n>', 'random walks started from every node per epoch', 10, integer(1, 1000)),
  option('newWalksPerNode', '--new-walks-per-node <n>', 'with --init-from: extra walks per epoch from every user and product with purchases the previous model ' +
    'did not see (default there 5; ignored when training from scratch)', 0, integer(0, 1000)),
  option('walkLength', '--walk-length <n>', 'tokens per walk', 20, integer(2, 10000)),
  option('weightedWalks', '--weighted-walks', 'choose the next node with probability proportional to the rating', false, onOff),
  option('window', '--window <w>', 'skip-gram window (odd): centre ± (w-1)/2', 7, oddInteger(3, 101)),
  option('negatives', '--negatives <k>', 'negative samples per pair; 0 = the paper\'s positive-only objective', 5, integer(0, 100)),
  option('negativePower', '--negative-power <x>', 'draw negatives ∝ frequency^x (0 = uniform)', 0, number(0, 2)),
  option('epochs', '--epochs <n>', 'passes over a fresh walk corpus', 1, integer(1, 1000)),
  option('skipgramLr', '--skipgram-lr <x>', 'skip-gram SGD learning rate (linear decay)', 0.025, number(1e-6, 10)),
  option('decoder', '--decoder', 'train jointly with the paper\'s image decoder M⁻¹ (off by default: beside the visual term it changes no measured ' +
    'AUC or Recall@20, docs/training.md; needed by --encoder-objective autoencoder and --pretrain)', false, onOff),
  option('hidden', '--hidden <list>', 'decoder hidden widths, D → hidden → I (the encoder mirrors them)', [256, 512, 1024, 2048], integerList(1, 65536)),
  option('dropout', '--dropout <p>', 'dropout on hidden layers', 0.5, number(0, 0.95)),
  option('lr', '--lr <x>', 'Adam learning rate of decoder and encoder', 1e-3, number(1e-8, 1)),
  option('batchSize', '--batch-size <n>', 'products per decoder/encoder batch', 256, integer(1, 65536)),
  option('pretrain', '--pretrain', 'pre-train an autoencoder and start product vectors and decoder from it (reference implementation)', false, onOff),
  option('minMaxScale', '--no-min-max', 'use raw image features instead of per-product min–max scaling to [0, 1]', true, onOff),
  option('decoderNoise', '--decoder-noise <sd>', 'Gaussian noise on embeddings before the decoder (reference implementation: 1)', 0, number(0, 100)),
  option('visual', '--no-visual', 'no joint visual term: product vectors are free skip-gram vectors (the paper\'s model)', true, onOff),
  option('visualLr', '--visual-lr <x>', 'Adam learning rate of the visual term\'s E', 1e-3, number(1e-8, 1)),
  option('rankEpochs', '--rank-epochs <n>', 'BPR epochs of ranking refinement after the joint stage (0 = none, the paper\'s model)', 30, integer(0, 10000)),
  option('rankLr', '--rank-lr <x>', 'SGD learning rate of the ranking refinement', 0.05, number(1e-8, 10)),
  option('rankReg', '--rank-reg <x>', 'L2 weight of the ranking refinement, per touched vector', 0.03, number(0, 100)),
  option('rankNegatives', '--rank-negatives <k>', 'ranking refinement trains on the highest-scoring of k uniform negatives (1 = plain BPR)', 1, integer(1, 1000)),
  option('rankSubspace', '--rank-subspace <k>', 'ranking refinement moves E within the features\' top k principal directions, so each step costs k columns, not I ' +
    '(0, or k ≥ I: full width)', 256, integer(0, 100_000)),
  option('encoderObjective', '--encoder-objective <name>', 'joint: M is the visual term\'s E (default); regress: an MLP M(f) ≈ warm embeddings; ' +
    'autoencoder: the paper\'s f → M(f) → frozen M⁻¹ (default with --no-visual: regress)', 'joint', oneOf<EncoderObjective>('joint', 'autoencoder', 'regress')),
  option('encoderSteps', '--encoder-steps <n>', 'encoder training steps (minibatches of --batch-size warm products)', 1000, integer(0, 10_000_000)),
  option('encoderDropout', '--encoder-dropout <p>', 'dropout on the encoder\'s hidden layers', 0.1, number(0, 0.95)),
  option('calibrateCold', '--no-calibrate-cold', 'do not map encoder outputs onto the mean/spread of the warm vectors', true, onOff),
  option('encoderNoise', '--encoder-noise <sd>', 'Gaussian noise on encoder input features', 0.05, number(0, 100)),
  option('scoring', '--scoring <rule>', 'rank by cosine (the paper\'s rule; puts cold products on an equal footing) or dot product (the norm adds popularity)', 'cosine', oneOf<Scoring>('cosine', 'dot')),
  option('itemBias', '--item-bias <w>', 'popularity in the ranking: add w·ln(1 + training purchases) to every user\'s score of a warm product (0 = none, the paper\'s model)',
    0.15, number(0, 10)),
  option('coldPopularity', '--cold-popularity <q>', 'with --cold-exposure off: a cold product\'s bias is that of the warm product at this quantile of purchases ' +
    '(0 = the least bought, 1 = the most)',
    0.99, number(0, 1)),
  option('coldOffset', '--cold-offset <x>', 'with --cold-exposure off: added to every cold product\'s bias (score units; with --item-bias 0 alone lifts new products)', 0, number(-10, 10)),
  option('coldExposure', '--cold-exposure <x>', 'set the cold bias so that new products fill this share of the training users\' top-20 lists: ' +
    '"auto" = the cold share of test purchases in a validation split carved from the training data by the split\'s protocol ' +
    '(production data: a time split, or the quantile rule without timestamps), a share in [0, 1], or "off" = --cold-popularity/--cold-offset',
    'auto', coldExposureType),
  option('similar', '--similar <space>', 'what similar items rank by: metric (a distance learned on co-purchased training pairs over the embeddings and image features) ' +
    'or embedding (their cosine, the paper\'s); recommendations are the same either way', 'metric', oneOf<SimilarSpaceKind>('metric', 'embedding')),
  option('similarRank', '--similar-rank <n>', 'rank of the learned similar-items distance', 100, integer(1, 4096)),
  option('similarEpochs', '--similar-epochs <n>', 'passes over the co-purchased pairs when learning the similar-items distance', 6, integer(1, 10000)),
  option('eventWeights', '--event-weights <list>', 'training weight per event type (interactions.csv\'s event_type column; no column: all purchases); ' +
    'walk transitions and ranking steps are weighted by it, 0 leaves a type out, a type without a weight is an error', DEFAULT_EVENT_WEIGHTS, eventWeightsType),
  option('halfLifeDays', '--half-life-days <d>', 'decay: an event d days older than the newest counts half (0 = no decay)', 0, number(0, 1e6)),
  threadsOption<TrainConfig>(),
  seedOption<TrainConfig>(),
];

export const defaultConfig: TrainConfig = defaultsOf(CONFIG_OPTIONS);

/** The paper's formulation, for comparison: two joint epochs, no negative sampling, cosine ranking, autoencoder-trained encoder. */
export const paperConfig: Partial<TrainConfig> = {
  epochs: 2,
  decoder: true,
  visual: false,
  rankEpochs: 0,
  negatives: 0,
  scoring: 'cosine',
  encoderObjective: 'autoencoder',
  itemBias: 0,
  coldOffset: 0,
  coldExposure: 'off',
  similar: 'embedding',
};

/** Returns a full, validated config; throws naming the first bad field. */
export function resolveConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  const config = resolveOptions('config', CONFIG_OPTIONS, overrides);
  if (config.encoderObjective === 'joint' && !config.visual) {
    throw new ConfigError('config: encoderObjective "joint" uses the visual term\'s E; it needs visual (drop --no-visual or pick --encoder-objective regress)');
  }
  if (!config.decoder && (config.encoderObjective === 'autoencoder' || config.pretrain)) {
    throw new ConfigError(`config: ${config.pretrain ? 'pretrain' : 'encoderObjective "autoencoder"'} trains through the image decoder; it needs decoder (add --decoder)`);
  }
  return config;
}
