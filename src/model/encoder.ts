// The encoder M (§3.3): image features → embedding space, to embed cold products.
// 'autoencoder' is the paper's objective: f → M(f) → M⁻¹(M(f)) ≈ f with the decoder frozen.
// 'regress' fits M(f_p) ≈ X_p on the warm products directly (same network, same noise).
// `pretrainAutoencoder` is the reference implementation's warm start: M and M⁻¹ trained together.
import { native, type Mlp } from '../native.js';
import type { Features, Matrix } from '../data/types.js';
import { copyFeatureRows } from '../data/features.js';
import { Rng } from '../data/random.js';
import type { Progress } from '../progress.js';
import type { TrainConfig } from './config.js';
import { gatherRows, minMaxInPlace, type RowSource } from './matrix.js';

/**
 * M plus a per-dimension affine map (scale, offset) that moves its outputs onto the distribution
 * of the learned warm vectors: a regression's outputs shrink towards the mean, which would rank
 * every cold product below the warm ones when both compete for a user.
 */
export interface Encoder {
  network: Mlp;
  /** [scale (D), offset (D)]; identity when calibration is off. */
  calibration: Float32Array;
}

export interface EncoderResult {
  encoder: Encoder;
  /** Mean training loss per epoch. */
  log: number[];
}

/** The reference implementation pre-trains its autoencoder with Adam at 1e-4. */
const PRETRAIN_LR = 1e-4;

/**
 * Loss of one batch of encoder outputs; with `train`, also its gradient with respect to them
 * (and, when pre-training, the decoder's update). Without, nothing is changed.
 */
type CodeLoss = (code: Float32Array, clean: Float32Array, rows: Int32Array, train: boolean) => { loss: number; gradCode: Float32Array | null };

function encoderSizes(config: TrainConfig, featureDim: number): number[] {
  return [featureDim, ...[...config.hidden].reverse(), config.dim];
}

function createEncoder(config: TrainConfig, featureDim: number): Mlp {
  return new native.Mlp(encoderSizes(config, featureDim), {
    dropout: config.encoderDropout,
    inputNoise: config.encoderNoise,
    outputRelu: false,
    seed: config.seed + 29,
  });
}

/** Trains M on the warm products (cold products' features are never seen in training). */
export async function trainEncoder(features: RowSource, warmItems: Int32Array, warmTargets: Matrix, decoder: Mlp | null,
  config: TrainConfig, progress: Progress): Promise<EncoderResult> {
  const encoder = createEncoder(config, features.cols);
  let loss: CodeLoss;
  if (decoder && config.encoderObjective === 'autoencoder') {
    // A dropout-free copy of the decoder: frozen, it only passes gradients back to M's output.
    const frozen = new native.Mlp(decoder.sizes, { dropout: 0, outputRelu: config.minMaxScale, seed: 0 });
    frozen.setParams(decoder.getParams());
    loss = reconstructionLoss(frozen, false);
  } else {
    loss = (code, _clean, rows) => {
      const gradCode = new Float32Array(code.length);
      const target = gatherRows(warmTargets, rows);
      return { loss: native.mse(code, target, null, rows.length, warmTargets.cols, gradCode) / rows.length, gradCode };
    };
  }
  const log = await fit(encoder, features, warmItems, loss, 'encoder', config, progress);
  const identity = { network: encoder, calibration: identityCalibration(config.dim) };
  const calibration = config.calibrateCold
    ? momentMatching(encodeRows(identity, features, warmItems), warmTargets)
    : identity.calibration;
  return { encoder: { network: encoder, calibration }, log };
}

function identityCalibration(dim: number): Float32Array {
  return new Float32Array(2 * dim).fill(1, 0, dim);
}

/** Per dimension: scale and offset mapping the mean and sd of `from` onto those of `to`. */
function momentMatching(from: Matrix, to: Matrix): Float32Array {
  const dim = from.cols;
  const out = new Float32Array(2 * dim);
  const moments = (m: Matrix, d: number) => {
    let sum = 0;
    let sq = 0;
    for (let r = 0; r < m.rows; r++) {
      const v = m.data[r * dim + d];
      sum += v;
      sq += v * v;
    }
    const mean = sum / Math.max(1, m.rows);
    return { mean, sd: Math.sqrt(Math.max(0, sq / Math.max(1, m.rows) - mean * mean)) };
  };
  for (let d = 0; d < dim; d++) {
    const a = moments(from, d);
    const b = moments(to, d);
    const scale = a.sd > 1e-12 ? b.sd / a.sd : 1;
    out[d] = scale;
    out[dim + d] = b.mean - scale * a.mean;
  }
  return out;
}

/**
 * Pre-trains M and M⁻¹ together as an autoencoder on the warm products' features; returns the
 * codes M(f) of the warm products (to initialise their vectors). Updates `decoder` in place.
 */
export async function pretrainAutoencoder(features: RowSource, warmItems: Int32Array, decoder: Mlp, config: TrainConfig,
  progress: Progress): Promise<Matrix> {
  const encoder = createEncoder(config, features.cols);
  await fit(encoder, features, warmItems, reconstructionLoss(decoder, true), 'pretrain', config, progress);
  const identity = { network: encoder, calibration: identityCalibration(config.dim) };
  return encodeRows(identity, features, warmItems);
}

/** MSE between M⁻¹(code) and the clean features; `train` also steps the decoder, otherwise its gradients are dropped. */
function reconstructionLoss(decoder: Mlp, train: boolean): CodeLoss {
  return (code, clean, rows, trainStep) => {
    const output = decoder.forward(code, rows.length, trainStep);
    const grad = new Float32Array(output.length);
    const loss = native.mse(output, clean, null, rows.length, decoder.sizes[decoder.sizes.length - 1], grad) / rows.length;
    if (!trainStep) return { loss, gradCode: null };
    const gradCode = decoder.backward(grad, rows.length);
    if (train) decoder.adamStep(PRETRAIN_LR, 0.9, 0.999, 1e-8);
    else decoder.zeroGrad();
    return { loss, gradCode };
  };
}

/** Share of the warm products held out to decide when to stop, and how many passes without improvement end training. */
const VALIDATION_SHARE = 0.1;
const PATIENCE = 2;

/**
 * Minibatch Adam over reshuffled passes of the warm products, with Gaussian noise on the input,
 * for at most `config.encoderSteps` steps. A tenth of the products is held out: training stops
 * when their loss has not improved for PATIENCE passes, and the best parameters are kept (the
 * regression otherwise overfits the warm products and embeds unseen ones worse).
 * Returns the validation loss after each pass.
 */
async function fit(encoder: Mlp, features: RowSource, warmItems: Int32Array, codeLoss: CodeLoss, label: string,
  config: TrainConfig, progress: Progress): Promise<number[]> {
  const rng = new Rng(config.seed + 31);
  const shuffled = rng.shuffle(Int32Array.from(warmItems.keys()));
  const nValidation = shuffled.length >= 20 ? Math.round(shuffled.length * VALIDATION_SHARE) : 0;
  const validation = shuffled.subarray(0, nValidation);
  const order = shuffled.slice(nValidation);
  const batchesPerPass = Math.max(1, Math.ceil(order.length / config.batchSize));
  const log: number[] = [];
  let best = { loss: Infinity, params: encoder.getParams() };
  let sinceBest = 0;
  progress.start(label, config.encoderSteps);
  for (let step = 0; step < config.encoderSteps && order.length > 0; step++) {
    const b = step % batchesPerPass;
    if (b === 0) rng.shuffle(order);
    const rows = order.subarray(b * config.batchSize, Math.min(order.length, (b + 1) * config.batchSize));
    const clean = features.gather(Array.from(rows, (r) => warmItems[r]));
    const code = encoder.forward(clean, rows.length, true); // the network adds the input noise
    const { gradCode } = codeLoss(code, clean, rows, true);
    encoder.backwardParams(gradCode!, rows.length);
    encoder.adamStep(config.lr, 0.9, 0.999, 1e-8);
    if (nValidation > 0 && (b === batchesPerPass - 1 || step === config.encoderSteps - 1)) {
      log.push(validationLoss(encoder, features, warmItems, validation, codeLoss, config.batchSize));
      if (log[log.length - 1] < best.loss) {
        best = { loss: log[log.length - 1], params: encoder.getParams() };
        sinceBest = 0;
      } else if (++sinceBest >= PATIENCE) {
        break;
      }
    }
    progress.update(step + 1, log.length ? `validation loss ${log[log.length - 1].toFixed(5)}` : undefined);
    if (step % 8 === 7) await new Promise((resolve) => setImmediate(resolve)); // let the progress bar draw
  }
  if (nValidation > 0) encoder.setParams(best.params);
  progress.finish(log.length ? `best validation loss ${best.loss.toFixed(5)} after ${log.indexOf(best.loss) + 1} of ${log.length} passes` : undefined);
  return log;
}

/** Mean loss over the held-out products, without noise or dropout. */
function validationLoss(encoder: Mlp, features: RowSource, warmItems: Int32Array, validation: Int32Array, codeLoss: CodeLoss, batchSize: number): number {
  let sum = 0;
  let batches = 0;
  for (let start = 0; start < validation.length; start += batchSize) {
    const rows = validation.subarray(start, Math.min(validation.length, start + batchSize));
    const clean = features.gather(Array.from(rows, (r) => warmItems[r]));
    const code = encoder.forward(clean, rows.length, false);
    sum += codeLoss(code, clean, rows, false).loss;
    batches++;
  }
  return sum / Math.max(1, batches);
}

/**
 * Embeds the listed rows of a row source (scaled like the training features) with M and its calibration,
 * gathering a batch at a time (never all of them at once).
 */
export function encodeRows(encoder: Encoder, features: RowSource, rows: ArrayLike<number>, batchSize = 1024): Matrix {
  const dim = outputDim(encoder);
  const out = new Float32Array(rows.length * dim);
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = Array.from({ length: Math.min(batchSize, rows.length - start) }, (_, k) => rows[start + k]);
    out.set(encoder.network.forward(features.gather(batch), batch.length, false), start * dim);
  }
  return calibrated(encoder, out, rows.length);
}

/** Batches encoded at once: each holds its input until its forward pass is done, so a whole float32 copy never builds up. */
const IN_FLIGHT = 4;

/**
 * Embeds feature rows as `encodeRows` does (min–max scaled per batch when `minMax`), with each batch's forward pass on
 * a libuv thread: for serving, where the event loop must keep answering.
 */
export async function encodeAsync(encoder: Encoder, features: Features, minMax: boolean, batchSize = 1024): Promise<Matrix> {
  const dim = outputDim(encoder);
  const out = new Float32Array(features.rows * dim);
  let pending: Array<Promise<void>> = [];
  for (let start = 0; start < features.rows; start += batchSize) {
    const end = Math.min(features.rows, start + batchSize);
    const input = copyFeatureRows(features, start, end);
    if (minMax) minMaxInPlace(input, features.cols);
    pending.push(encoder.network.forwardAsync(input, end - start).then((embedded) => out.set(embedded, start * dim)));
    if (pending.length === IN_FLIGHT) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  return calibrated(encoder, out, features.rows);
}

function outputDim(encoder: Encoder): number {
  return encoder.network.sizes[encoder.network.sizes.length - 1];
}

/** The cold calibration out · row0 + row1 (per dimension), in place. */
function calibrated(encoder: Encoder, out: Float32Array, rows: number): Matrix {
  const dim = outputDim(encoder);
  const { calibration } = encoder;
  for (let k = 0; k < out.length; k++) {
    const d = k % dim;
    out[k] = out[k] * calibration[d] + calibration[dim + d];
  }
  return { data: out, rows, cols: dim };
}
