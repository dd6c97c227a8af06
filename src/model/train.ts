// VASG training (§3.1–3.2): random walks on the training HIN, skip-gram over the walk corpus,
// jointly with a decoder M⁻¹ that reconstructs each product's image features from its embedding.
//
// Cost: the reference implementation runs the decoder once per (centre, context) pair. Here the
// skip-gram pass runs natively over a chunk of the corpus, then the decoder runs once per
// product with the product's pair count in that chunk as its loss weight — the same objective
// (Σ_pairs MSE_p = Σ_p n_p·MSE_p), at a cost of one decoder pass over the products per epoch.
// The two tasks are balanced by homoscedastic uncertainty weights (Kendall et al. 2017):
// L = Σ_i exp(-s_i)·L_i + s_i, with s_i learned by gradient steps.
import { native, type Mlp } from '../native.js';
import type { Matrix, Split } from '../data/types.js';
import { Rng } from '../data/random.js';
import { featureDtype, forEachFeatureBlock } from '../data/features.js';
import type { NpyDtype } from '../data/npy.js';
import { buildGraph, negativeTable, nodeFrequencies, type BipartiteGraph } from '../graph/graph.js';
import { generateWalks, interleaveWalks, keepWalks } from '../graph/walks.js';
import type { Progress } from '../progress.js';
import type { TrainConfig } from './config.js';
import { withBlasThreads } from '../core/blas.js';
import { assertFinite, featureRows, firstNonFinite, gatherRows, type RowSource } from './matrix.js';
import { encodeRows, pretrainAutoencoder, trainEncoder, type Encoder } from './encoder.js';
import { refineForRanking } from './rank.js';
import { standardize, VisualProjection, type Standardization } from './visual.js';
import { calibrateColdShift, coldBias, coldShareTarget, itemBiases, itemPopularity, listHeads } from './item-bias.js';
import { scoringFactors, VasgModel } from './vasg-model.js';
import { fitSimilarSpace, placeInSimilarSpace } from './similar-space.js';
import { pairWeights, selectEvents, weighsEvents } from '../data/events.js';
import { checkEnoughWarm } from '../data/split.js';

/** One line of the per-epoch training log. */
export interface EpochLog {
  epoch: number;
  /** Mean skip-gram loss per pair, for user and product centres. */
  skipgramUsers: number;
  skipgramProducts: number;
  /** Weighted mean reconstruction MSE of the decoder (NaN without decoder). */
  reconstruction: number;
  /** Uncertainty weights exp(-s) of the product tasks. */
  weightSkipgram: number;
  weightReconstruction: number;
  /** Wall time of the epoch (walks included), and the parts spent generating walks, in the decoder and in the visual term. */
  seconds: number;
  walkSeconds: number;
  decoderSeconds: number;
  visualSeconds: number;
}

/**
 * Where training's wall time went, in seconds (the bench's per-stage breakdown). skipgram is each epoch's time
 * less its walks, decoder and visual parts (so it includes the per-chunk divergence checks); setup is the graph,
 * min–max scaling, initial vectors and the visual term's standardisation (and the autoencoder with `pretrain`);
 * encoder is training M and embedding the cold products; other is the rest (assembling the model).
 */
export interface StageSeconds {
  setup: number;
  walks: number;
  skipgram: number;
  decoder: number;
  visual: number;
  ranking: number;
  encoder: number;
  /** Fitting the similar-items space (0 with `similar: 'embedding'`). */
  similar: number;
  other: number;
}

export interface TrainResult {
  model: VasgModel;
  log: EpochLog[];
  /** Mean BPR loss per ranking epoch. */
  rankingLog: number[];
  encoderLog: number[];
  stages: StageSeconds;
  seconds: number;
}

/** Learning rate of the uncertainty log-variances s_i. */
const UNCERTAINTY_LR = 0.05;
/** Walks per skip-gram chunk; between chunks the decoder sees a slice of the products. */
const CHUNKS_PER_EPOCH = 20;

/** The joint stage's output: one vector per graph node (users, then warm products), and the decoder. */
export interface Embeddings {
  graph: BipartiteGraph;
  /** [graph.nNodes × dim] row-major. */
  vectors: Float32Array;
  /** Image features as the decoder saw them (min–max scaled when configured), row by row. */
  features: RowSource;
  decoder: Mlp | null;
  /** The joint visual term's map E (null with `visual: false`). */
  visual: { projection: VisualProjection; standardization: Standardization } | null;
  log: EpochLog[];
  /** Mean BPR loss per ranking epoch (empty with rankEpochs 0). */
  rankingLog: number[];
  /** Seconds of the stages up to and including ranking (StageSeconds without encoder and other). */
  stages: Omit<StageSeconds, 'encoder' | 'similar' | 'other'>;
}

/**
 * Where incremental training starts (src/model/incremental.ts): a vector for every user and product of the split,
 * the previous decoder's parameters, and the previous E as the one-layer network on (scaled) features it was saved as.
 */
export interface StartingPoint {
  users: Matrix;
  items: Matrix;
  decoder: Float32Array[] | null;
  /** [W (I × D), b (D)] of M = E; null when the previous encoder is not the joint visual term. */
  visual: Float32Array[] | null;
  /**
   * Carry the decoder over unchanged instead of training it: its pass over every product costs as much as a
   * whole epoch of a short incremental run, and the joint encoder (E) does not use it.
   */
  freezeDecoder: boolean;
  /** The previous similar-items space's Y, kept instead of refitted (null: fit one, as a full run does). */
  similarProjection: Matrix | null;
  /** Users and products (split indices) with purchases the previous model did not see: `newWalksPerNode` more walks start from each. */
  touched: { users: Uint8Array; items: Uint8Array };
}

/** §3.1–3.2: random walks, then skip-gram jointly with the decoder (or alone, with `decoder: false`). */
export function trainEmbeddings(split: Split, config: TrainConfig, progress: Progress, start?: StartingPoint): Promise<Embeddings> {
  return withBlasThreads(config.threads, () => learnEmbeddings(split, config, progress, start));
}

async function learnEmbeddings(split: Split, config: TrainConfig, progress: Progress, start?: StartingPoint): Promise<Embeddings> {
  const started = Date.now();
  const nUsers = split.userIds.length;
  const graph = buildGraph(split.train, nUsers, split.itemIds.length);
  if (config.decoder && !config.minMaxScale) checkRawFeatureScale(split);
  // Scaled as rows are gathered, so training never holds a scaled copy of the whole feature matrix.
  const features = featureRows(split.features, config.minMaxScale);
  const rng = new Rng(config.seed);

  const vectors = new Float32Array(graph.nNodes * config.dim);
  for (let k = 0; k < vectors.length; k++) vectors[k] = (rng.next() - 0.5) / config.dim;
  const decoder = config.decoder ? createDecoder(config, features.cols) : null;
  if (start) {
    vectors.set(start.users.data);
    graph.nodeItem.forEach((item, k) => vectors.set(start.items.data.subarray(item * config.dim, (item + 1) * config.dim), (nUsers + k) * config.dim));
    if (decoder && start.decoder) decoder.setParams(start.decoder);
  } else if (config.pretrain && decoder) {
    const codes = await pretrainAutoencoder(features, graph.nodeItem, decoder, config, progress);
    vectors.set(codes.data, nUsers * config.dim);
  }
  const visual = config.visual ? createVisual(graph, features, featureDtype(split.features), config) : null;
  if (visual && start?.visual) visual.projection.startFrom(start.visual, visual.standardization);
  const trainedDecoder = start?.freezeDecoder ? null : decoder;
  const joint = new JointTrainer(graph, vectors, features, trainedDecoder, visual?.projection ?? null, config, rng);

  const setup = (Date.now() - started) / 1000;
  const log: EpochLog[] = [];
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const epochStart = Date.now();
    const corpus = await epochCorpus(graph, config, epoch, start?.touched);
    const walkSeconds = (Date.now() - epochStart) / 1000;
    const entry = await joint.epoch(corpus, epoch, progress);
    entry.seconds = (Date.now() - epochStart) / 1000;
    entry.walkSeconds = walkSeconds;
    checkEpoch(entry, { ...config, decoder: trainedDecoder !== null });
    log.push(entry);
    progress.log(formatEpoch(entry, config.epochs));
  }
  const rankingStart = Date.now();
  const rankingLog = refineForRanking(split, graph, vectors, visual?.projection ?? null, config, progress);
  const sum = (key: 'seconds' | 'walkSeconds' | 'decoderSeconds' | 'visualSeconds') => log.reduce((s, e) => s + e[key], 0);
  const stages = {
    setup, walks: sum('walkSeconds'), skipgram: sum('seconds') - sum('walkSeconds') - sum('decoderSeconds') - sum('visualSeconds'),
    decoder: sum('decoderSeconds'), visual: sum('visualSeconds'), ranking: (Date.now() - rankingStart) / 1000,
  };
  return { graph, vectors, features, decoder, visual, log, rankingLog, stages };
}

/** One epoch's walks: `walksPerNode` from every node, and in an incremental run `newWalksPerNode` more from the touched ones. */
async function epochCorpus(graph: BipartiteGraph, config: TrainConfig, epoch: number, touched?: StartingPoint['touched']): Promise<Int32Array> {
  const walks = (walksPerNode: number, seed: number) => generateWalks(graph, {
    walksPerNode, walkLength: config.walkLength, weighted: config.weightedWalks, seed, threads: config.threads,
  });
  const corpus = await walks(config.walksPerNode, config.seed * 1000 + epoch);
  if (!touched || config.newWalksPerNode === 0) return corpus;
  // The native walker starts from every node: walking from all and keeping the touched starts costs less than a second
  // entry point would save (walks are ≈ 0.1 % of training on `men`).
  const startsTouched = (node: number) => (node < graph.nUsers ? touched.users[node] : touched.items[graph.nodeItem[node - graph.nUsers]]) === 1;
  const extra = keepWalks(await walks(config.newWalksPerNode, config.seed * 1000 + epoch + 500), config.walkLength, startsTouched);
  return interleaveWalks(corpus, extra, config.walkLength);
}

/**
 * With --no-min-max the decoder regresses the raw features in float32: a value whose square, summed over
 * the I dimensions, overflows (|x| > √(FLT_MAX / I)) makes the reconstruction loss Infinity after minutes
 * of training and would blame --lr. Refused before training, naming the value.
 */
function checkRawFeatureScale(split: Split): void {
  const { cols } = split.features;
  const limit = Math.sqrt(FLOAT32_MAX / cols);
  forEachFeatureBlock(split.features, (data, r0) => {
    for (let k = 0; k < data.length; k++) {
      if (Math.abs(data[k]) > limit) {
        const row = r0 + Math.floor(k / cols);
        throw new Error(`features.npy: row ${row} (product "${split.itemIds[row]}"), column ${k % cols}: ${data[k]} is too large for the decoder's ` +
          `float32 squared error without min–max scaling (|x| must stay below ${limit.toPrecision(3)} with I = ${cols}); drop --no-min-max or rescale the features`);
      }
    }
  });
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** E over the warm products' standardised features, in graph node order, held in the split's storage type. */
function createVisual(graph: BipartiteGraph, features: RowSource, dtype: NpyDtype, config: TrainConfig) {
  const { standardized, standardization } = standardize(features, graph.nodeItem, dtype);
  return { projection: new VisualProjection(standardized, config.dim, config.visualLr), standardization };
}

/** The whole of VASG: embeddings, then the encoder M (§3.3), which embeds the cold products. */
export function trainVasg(split: Split, config: TrainConfig, progress: Progress, start?: StartingPoint): Promise<TrainResult> {
  const weighted = weighEvents(split, config);
  return withBlasThreads(config.threads, () => trainModel(weighted.split, weighted.config, progress, start));
}

/**
 * Typed events and decay (src/data/events.ts): pairs of weight 0 leave training (their products may become cold);
 * the others' weights replace the ratings as walk transition weights (times the rating with --weighted-walks) and
 * weight the ranking steps (`pairWeights` of the split, mean 1). Untyped data without decay is left as it is.
 */
export function weighEvents(split: Split, config: TrainConfig): { split: Split; config: TrainConfig } {
  if (!weighsEvents(split.train, config)) return { split, config };
  const weights = pairWeights(split.train, config);
  const kept: number[] = [];
  weights.forEach((w, k) => w > 0 && kept.push(k));
  const src = split.train;
  const train: Split['train'] = {
    users: Int32Array.from(kept, (k) => src.users[k]),
    items: Int32Array.from(kept, (k) => src.items[k]),
    ratings: Float32Array.from(kept, (k) => weights[k] * (config.weightedWalks ? src.ratings[k] : 1)),
    timestamps: Float64Array.from(kept, (k) => src.timestamps[k]),
  };
  const events = selectEvents(src.events, kept);
  if (events) train.events = events;
  const mean = kept.reduce((sum, k) => sum + weights[k], 0) / Math.max(1, kept.length);
  const warm = new Uint8Array(split.itemIds.length);
  for (const i of train.items) warm[i] = 1;
  checkEnoughWarm('train (after --event-weights)', warm.reduce((a, b) => a + b, 0));
  return {
    split: { ...split, train, warm, pairWeights: Float32Array.from(kept, (k) => weights[k] / mean) },
    config: { ...config, weightedWalks: true },
  };
}

async function trainModel(split: Split, config: TrainConfig, progress: Progress, start?: StartingPoint): Promise<TrainResult> {
  const started = Date.now();
  const embedded = await trainEmbeddings(split, config, progress, start);
  const { graph, vectors, features, decoder, log, rankingLog, stages } = embedded;
  const encoderStart = Date.now();
  const nUsers = graph.nUsers;
  const embeddings: Matrix = { data: vectors, rows: graph.nNodes, cols: config.dim };
  let encoder: Encoder;
  let encoderLog: number[] = [];
  if (config.encoderObjective === 'joint') {
    encoder = jointEncoder(embedded.visual!, config);
  } else {
    const warmItems = graph.nodeItem;
    const warmTargets: Matrix = {
      data: gatherRows(embeddings, Array.from(warmItems, (_, k) => nUsers + k)),
      rows: warmItems.length,
      cols: config.dim,
    };
    ({ encoder, log: encoderLog } = await trainEncoder(features, warmItems, warmTargets, decoder, config, progress));
  }

  const items = new Float32Array(split.itemIds.length * config.dim);
  const coldItems: number[] = [];
  for (let i = 0; i < split.itemIds.length; i++) {
    const node = graph.itemNode[i];
    if (node >= 0) items.set(vectors.subarray(node * config.dim, (node + 1) * config.dim), i * config.dim);
    else coldItems.push(i);
  }
  const coldVectors = encodeRows(encoder, features, coldItems);
  coldItems.forEach((item, k) => items.set(coldVectors.data.subarray(k * config.dim, (k + 1) * config.dim), item * config.dim));
  const encoderSeconds = (Date.now() - encoderStart) / 1000;
  // E's standardised warm features (nearly the size of the feature matrix) are done with once E is the encoder: let them
  // go before the similar-items fit, the stage that sets training's peak memory.
  embedded.visual = null;

  assertFinite('trained user vectors', vectors.subarray(0, nUsers * config.dim), config.dim);
  assertFinite('product vectors (warm: trained, cold: encoder output)', items, config.dim);
  const model = VasgModel.fromTraining({
    config,
    userIds: split.userIds,
    itemIds: split.itemIds,
    users: { data: vectors.slice(0, nUsers * config.dim), rows: nUsers, cols: config.dim },
    items: { data: items, rows: split.itemIds.length, cols: config.dim },
    cold: Uint8Array.from(graph.itemNode, (node) => (node < 0 ? 1 : 0)),
    train: split.train,
    encoder,
    decoder,
    featureDim: features.cols,
    meta: split.items.map((m) => ({ ...m })),
    ...biasOf(split, config, { data: vectors.subarray(0, nUsers * config.dim), rows: nUsers, cols: config.dim }, { data: items, rows: split.itemIds.length, cols: config.dim }),
  });
  const similarStart = Date.now();
  // The encoder's view of every product, through the training's feature rows (as embedFeatures would compute it, without
  // its whole-matrix scaled copy and its async batches, which cost 11 s on `men` against 1.5 s here).
  const similarSpace = config.similar === 'embedding' ? null
    : start?.similarProjection ? placeInSimilarSpace(start.similarProjection, model.parts.items, split.features)
      : fitSimilarSpace(split, model.parts.items, encodeRows(encoder, features, Int32Array.from({ length: split.itemIds.length }, (_, i) => i)), config, new Set(), progress);
  const similarSeconds = (Date.now() - similarStart) / 1000;
  const seconds = (Date.now() - started) / 1000;
  const known = Object.values(stages).reduce((s, x) => s + x, 0) + encoderSeconds + similarSeconds;
  return {
    model: model.withSimilarSpace(similarSpace), log, rankingLog, encoderLog, seconds,
    stages: { ...stages, encoder: encoderSeconds, similar: similarSeconds, other: Math.max(0, seconds - known) },
  };
}

/**
 * The item bias of config.itemBias on this split's training purchases; none when itemBias and coldOffset are zero.
 * The cold bias is the quantile rule (coldPopularity + coldOffset) or, with coldExposure, the one calibrated on the
 * users' lists (calibratedColdBias).
 */
function biasOf(split: Split, config: TrainConfig, users: Matrix, items: Matrix): { itemBias?: Float32Array; coldBias?: number } {
  if (config.itemBias === 0 && config.coldOffset === 0) return {};
  const weights = { popularityWeight: config.itemBias, coldQuantile: config.coldPopularity, coldOffset: config.coldOffset };
  const popularity = itemPopularity(split.train, split.itemIds.length);
  const biases = itemBiases(popularity, split.warm, weights);
  const calibrated = calibratedColdBias(split, config, scoringFactors(users, items, config.scoring), biases);
  const cold = calibrated ?? coldBias(popularity, split.warm, weights);
  if (calibrated !== null) split.warm.forEach((w, i) => { if (!w) biases[i] = cold; });
  return { itemBias: biases, coldBias: cold };
}

/**
 * With coldExposure, the cold bias at which cold products fill the target share of the training users' top-20 lists
 * (the target of "auto": coldShareTarget); null for "off", or when there is no target or no cold product to place.
 */
function calibratedColdBias(split: Split, config: TrainConfig, scoring: { users: Matrix; items: Matrix }, biases: Float32Array): number | null {
  if (config.coldExposure === 'off' || split.warm.every((w) => w === 1)) return null;
  const target = config.coldExposure === 'auto' ? coldShareTarget(split, config.seed + 1000) : config.coldExposure;
  if (target === null) return null;
  return calibrateColdShift(listHeads(scoring, biases, split.warm, split.train), target);
}

/**
 * M = the jointly trained E, unchanged: a cold product's free part is what every product's free part
 * started as (zero: it has had no purchases to learn from). The mean warm free part would be a worse
 * guess: uniform negatives push the many rarely bought products away from the users (measured on
 * `sparse`: cold AUC 0.675 with that offset, 0.884 without).
 */
function jointEncoder(visual: NonNullable<Embeddings['visual']>, config: TrainConfig): Encoder {
  const calibration = new Float32Array(2 * config.dim).fill(1, 0, config.dim);
  return { network: visual.projection.toNetwork(visual.standardization, config.seed + 29), calibration };
}

/** Stops a diverged run at the epoch where it happened, naming the loss and the flag that usually helps. */
function checkEpoch(e: EpochLog, config: TrainConfig): void {
  const losses: Array<[string, number, string]> = [
    ['skip-gram (users)', e.skipgramUsers, `--skipgram-lr (now ${config.skipgramLr})`],
    ['skip-gram (products)', e.skipgramProducts, `--skipgram-lr (now ${config.skipgramLr})`],
  ];
  if (config.decoder) losses.push(['reconstruction', e.reconstruction, `--lr (now ${config.lr})`]);
  for (const [name, value, flag] of losses) {
    if (!Number.isFinite(value)) throw new Error(`training diverged in epoch ${e.epoch + 1}: the ${name} loss is ${value}; try a lower ${flag}`);
  }
}

function createDecoder(config: TrainConfig, featureDim: number): Mlp {
  return new native.Mlp([config.dim, ...config.hidden, featureDim], {
    dropout: config.dropout,
    // Min–max scaled features are non-negative, so the output may end in a ReLU like the paper's layers.
    outputRelu: config.minMaxScale,
    seed: config.seed + 17,
  });
}

function formatEpoch(e: EpochLog, epochs: number): string {
  const recon = Number.isNaN(e.reconstruction) ? '' : `  recon ${e.reconstruction.toFixed(5)} (w ${e.weightReconstruction.toFixed(2)}, ${e.decoderSeconds.toFixed(1)}s)`;
  return `epoch ${e.epoch + 1}/${epochs}  skip-gram users ${e.skipgramUsers.toFixed(4)} products ${e.skipgramProducts.toFixed(4)}` +
    ` (w ${e.weightSkipgram.toFixed(2)})${recon}  ${e.seconds.toFixed(1)}s`;
}

/** Holds the state shared across epochs: tables, decoder, uncertainty weights, learning-rate schedule. */
class JointTrainer {
  private negTable: Int32Array | null = null;
  private readonly centreScale: Float32Array;
  /** Log-variances s_i of the product tasks (skip-gram, reconstruction). */
  private sSkipgram = 0;
  private sRecon = 0;
  private tokensDone = 0;
  private readonly batchInput: Float32Array;
  private readonly gradBuffer: Float32Array;
  private readonly pairCountBuffer: Float64Array;
  /** With the visual term: E·f̃ of the warm products as last added to their vectors, and their vectors at the chunk's start. */
  private projected = new Float32Array(0);
  private before = new Float32Array(0);

  constructor(
    private readonly graph: BipartiteGraph,
    private readonly vectors: Float32Array,
    private readonly features: RowSource,
    private readonly decoder: Mlp | null,
    private readonly visual: VisualProjection | null,
    private readonly config: TrainConfig,
    private readonly rng: Rng,
  ) {
    this.centreScale = new Float32Array(graph.nNodes).fill(1);
    if (visual) {
      this.projected = new Float32Array(visual.dim * graph.nodeItem.length);
      visual.project(this.projected);
      this.before = new Float32Array(this.projected.length);
    }
    this.batchInput = new Float32Array(config.batchSize * config.dim);
    this.gradBuffer = new Float32Array(config.batchSize * features.cols);
    this.pairCountBuffer = new Float64Array(graph.nNodes);
  }

  async epoch(corpus: Int32Array, epoch: number, progress: Progress): Promise<EpochLog> {
    const { config, graph } = this;
    if (this.negTable === null && config.negatives > 0) {
      this.negTable = negativeTable(nodeFrequencies(corpus, graph.nNodes), config.negativePower);
    }
    const walkLength = config.walkLength;
    const nWalks = corpus.length / walkLength;
    const totalTokens = corpus.length * config.epochs;
    const products = this.rng.shuffle(Int32Array.from({ length: graph.nNodes - graph.nUsers }, (_, k) => graph.nUsers + k));
    const chunks = Math.min(CHUNKS_PER_EPOCH, nWalks);
    let decoderSeconds = 0;
    let visualSeconds = 0;
    const sums = { lossUsers: 0, lossProducts: 0, pairsUsers: 0, pairsProducts: 0, recon: 0, reconWeight: 0 };
    progress.start(`epoch ${epoch + 1}/${config.epochs}`, chunks);
    for (let c = 0; c < chunks; c++) {
      const chunk = corpus.subarray(Math.floor((c * nWalks) / chunks) * walkLength, Math.floor(((c + 1) * nWalks) / chunks) * walkLength);
      const lrStart = this.learningRate(this.tokensDone / totalTokens);
      this.tokensDone += chunk.length;
      const lrEnd = this.learningRate(this.tokensDone / totalTokens);
      this.centreScale.fill(Math.exp(-this.sSkipgram), graph.nUsers);
      const productRows = this.vectors.subarray(graph.nUsers * config.dim);
      if (this.visual) this.before.set(productRows);
      const stats = await native.skipgram({
        vectors: this.vectors,
        contexts: null,
        dim: config.dim,
        corpus: chunk,
        walkLength,
        radius: (config.window - 1) / 2,
        negatives: config.negatives,
        negTable: this.negTable,
        lrStart,
        lrEnd,
        centreScale: this.centreScale,
        nUsers: graph.nUsers,
        threads: config.threads,
        seed: config.seed * 7919 + epoch * CHUNKS_PER_EPOCH + c,
      });
      sums.lossUsers += stats.lossUsers;
      sums.lossProducts += stats.lossProducts;
      sums.pairsUsers += stats.pairsUsers;
      sums.pairsProducts += stats.pairsProducts;
      const meanSkipgram = stats.pairsProducts > 0 ? stats.lossProducts / stats.pairsProducts : 0;
      let reconstruction = 0;
      this.sSkipgram -= UNCERTAINTY_LR * (1 - Math.exp(-this.sSkipgram) * meanSkipgram);
      if (this.decoder) {
        const decoderStart = Date.now();
        const slice = products.subarray(Math.floor((c * products.length) / chunks), Math.floor(((c + 1) * products.length) / chunks));
        const pairCounts = this.pairCounts(chunk);
        const { loss, weight } = this.decoderPass(slice, pairCounts, lrEnd);
        sums.recon += loss;
        sums.reconWeight += weight;
        if (weight > 0) this.sRecon -= UNCERTAINTY_LR * (1 - Math.exp(-this.sRecon) * (loss / weight));
        reconstruction = loss / Math.max(1e-12, weight);
        decoderSeconds += (Date.now() - decoderStart) / 1000;
      }
      if (this.visual) {
        const visualStart = Date.now();
        this.visualStep(productRows);
        visualSeconds += (Date.now() - visualStart) / 1000;
      }
      this.checkVectors(epoch, `${c + 1}/${chunks}`, meanSkipgram, reconstruction);
      progress.update(c + 1, `loss ${(sums.lossProducts / Math.max(1, sums.pairsProducts)).toFixed(4)}`);
    }
    progress.finish();
    return {
      epoch,
      skipgramUsers: sums.lossUsers / Math.max(1, sums.pairsUsers),
      skipgramProducts: sums.lossProducts / Math.max(1, sums.pairsProducts),
      reconstruction: this.decoder ? sums.recon / Math.max(1e-12, sums.reconWeight) : NaN,
      weightSkipgram: Math.exp(-this.sSkipgram),
      weightReconstruction: Math.exp(-this.sRecon),
      seconds: 0,
      walkSeconds: 0,
      decoderSeconds,
      visualSeconds,
    };
  }

  /**
   * Stops at the chunk that made a vector non-finite, naming the loss that diverged and the flag that usually
   * helps. The epoch's losses alone cannot tell: skip-gram's are clamped (a blown-up run reports ≈ 30 per pair,
   * not NaN), and the decoder's turn NaN on vectors that skip-gram inflated. Skip-gram above twice its loss at
   * the start ((1 + k)·ln 2 per pair) is climbing, not descending, so it is blamed first.
   */
  private checkVectors(epoch: number, chunk: string, skipgram: number, reconstruction: number): void {
    const k = firstNonFinite(this.vectors);
    if (k < 0) return;
    const { config } = this;
    const row = Math.floor(k / config.dim);
    const vector = row < this.graph.nUsers ? `user vector ${row}` : `product vector ${row - this.graph.nUsers}`;
    const blame = skipgram > 2 * (1 + config.negatives) * Math.LN2 || (!this.decoder && !this.visual)
      ? `the skip-gram loss is ${skipgram.toFixed(2)} per pair; try a lower --skipgram-lr (now ${config.skipgramLr})`
      : this.decoder && !Number.isFinite(reconstruction)
        ? `the reconstruction loss is ${reconstruction}; try a lower --lr (now ${config.lr})`
        : `the visual term diverged; try a lower --visual-lr (now ${config.visualLr})`;
    throw new Error(`training diverged in epoch ${epoch + 1} (chunk ${chunk}): ${vector} holds ${this.vectors[k]}; ${blame}`);
  }

  /** E takes the step the chunk's updates imply; the products' vectors follow their new E·f̃. */
  private visualStep(productRows: Float32Array): void {
    const delta = this.before;
    for (let k = 0; k < delta.length; k++) delta[k] = productRows[k] - delta[k];
    this.visual!.step(delta);
    for (let k = 0; k < productRows.length; k++) productRows[k] -= this.projected[k];
    this.visual!.project(this.projected);
    for (let k = 0; k < productRows.length; k++) productRows[k] += this.projected[k];
  }

  private learningRate(fraction: number): number {
    return this.config.skipgramLr * Math.max(1e-4, 1 - fraction);
  }

  /**
   * How many (centre, context) pairs each node has as centre in `chunk`. Each product sees the
   * decoder once per epoch, in one chunk, so its count there stands for all chunks of the epoch.
   */
  private pairCounts(chunk: Int32Array): Float64Array {
    const counts = this.pairCountBuffer.fill(0);
    const { walkLength, window } = this.config;
    const radius = (window - 1) / 2;
    for (let start = 0; start < chunk.length; start += walkLength) {
      for (let pos = 0; pos < walkLength; pos++) {
        counts[chunk[start + pos]] += Math.min(walkLength - 1, pos + radius) - Math.max(0, pos - radius);
      }
    }
    return counts;
  }

  /**
   * Decoder steps over the products of one slice, each weighted by its pair count and the
   * uncertainty weight exp(-s_recon); product vectors take the same SGD step size as skip-gram.
   */
  private decoderPass(slice: Int32Array, pairCounts: Float64Array, lr: number): { loss: number; weight: number } {
    const decoder = this.decoder!;
    const { config, features, vectors } = this;
    const dim = config.dim;
    const chunks = Math.min(CHUNKS_PER_EPOCH, slice.length || 1);
    const weightScale = Math.exp(-this.sRecon) * chunks;
    let lossSum = 0;
    let weightSum = 0;
    for (let b = 0; b < slice.length; b += config.batchSize) {
      const nodes = slice.subarray(b, Math.min(slice.length, b + config.batchSize));
      const rows = nodes.length;
      const input = this.batchInput.subarray(0, rows * dim);
      const items = Array.from(nodes, (node) => this.graph.nodeItem[node - this.graph.nUsers]);
      const rowWeights = new Float32Array(rows);
      for (let r = 0; r < rows; r++) {
        input.set(vectors.subarray(nodes[r] * dim, (nodes[r] + 1) * dim), r * dim);
        rowWeights[r] = pairCounts[nodes[r]];
      }
      if (config.decoderNoise > 0) {
        for (let k = 0; k < input.length; k++) input[k] += config.decoderNoise * this.rng.normal();
      }
      const target = features.gather(items);
      const output = decoder.forward(input, rows, true);
      const grad = this.gradBuffer.subarray(0, rows * features.cols);
      const batchWeight = rowWeights.reduce((a, w) => a + w, 0);
      // Loss reported as a weighted mean; gradient weights carry the pair counts (Adam is scale-invariant).
      lossSum += native.mse(output, target, rowWeights, rows, features.cols, grad);
      weightSum += batchWeight;
      for (let k = 0; k < grad.length; k++) grad[k] *= weightScale;
      const gradInput = decoder.backward(grad, rows);
      decoder.adamStep(config.lr, 0.9, 0.999, 1e-8);
      for (let r = 0; r < rows; r++) applyClippedStep(vectors.subarray(nodes[r] * dim, (nodes[r] + 1) * dim), gradInput.subarray(r * dim, (r + 1) * dim), lr);
    }
    return { loss: lossSum, weight: weightSum };
  }
}

/**
 * x -= lr·g, with the step's norm capped at a tenth of |x| (plus lr): one product's decoder
 * gradient carries all its pairs of an epoch at once, which would otherwise throw popular
 * products far out of the skip-gram geometry.
 */
function applyClippedStep(x: Float32Array, g: Float32Array, lr: number): void {
  let xNorm = 0;
  let gNorm = 0;
  for (let k = 0; k < x.length; k++) {
    xNorm += x[k] * x[k];
    gNorm += g[k] * g[k];
  }
  const step = lr * Math.sqrt(gNorm);
  const cap = 0.1 * Math.sqrt(xNorm) + lr;
  const scale = step > cap ? (lr * cap) / step : lr;
  for (let k = 0; k < x.length; k++) x[k] -= scale * g[k];
}
