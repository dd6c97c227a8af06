// The encoder M (§3.3): image features → embedding space, to embed cold products.
// 'autoencoder' is the paper's objective: f → M(f) → M⁻¹(M(f)) ≈ f with the decoder frozen.
// 'regress' fits M(f_p) ≈ X_p on the warm products directly (same network, same noise).
import { native, type Mlp } from '../native.js';
import type { Matrix } from '../data/types.js';
import { Rng } from '../data/random.js';
import type { Progress } from '../progress.js';
import type { TrainConfig } from './config.js';
import { gatherRows } from './matrix.js';

export interface EncoderResult {
  encoder: Mlp;
  /** Mean training loss per epoch. */
  log: number[];
}

export function encoderSizes(config: TrainConfig, featureDim: number): number[] {
  return [featureDim, ...[...config.hidden].reverse(), config.dim];
}

/** Trains M on the warm products (cold products' features are never seen in training). */
export async function trainEncoder(features: Matrix, warmItems: Int32Array, warmTargets: Matrix, decoder: Mlp | null,
  config: TrainConfig, progress: Progress): Promise<EncoderResult> {
  const encoder = new native.Mlp(encoderSizes(config, features.cols), { dropout: config.dropout, outputRelu: false, seed: config.seed + 29 });
  const objective = decoder ? config.encoderObjective : 'regress';
  // A dropout-free copy of the decoder: frozen, it only passes gradients back to M's output.
  const frozen = objective === 'autoencoder' && decoder ? frozenCopy(decoder, config.minMaxScale) : null;
  const rng = new Rng(config.seed + 31);
  const order = Int32Array.from(warmItems.keys());
  const log: number[] = [];
  const batches = Math.ceil(order.length / config.batchSize);
  for (let epoch = 0; epoch < config.encoderEpochs; epoch++) {
    rng.shuffle(order);
    progress.start(`encoder ${epoch + 1}/${config.encoderEpochs}`, batches);
    let lossSum = 0;
    for (let b = 0; b < batches; b++) {
      const rows = order.subarray(b * config.batchSize, Math.min(order.length, (b + 1) * config.batchSize));
      const input = gatherRows(features, Array.from(rows, (r) => warmItems[r]));
      const clean = frozen ? input.slice() : input;
      if (config.encoderNoise > 0) for (let k = 0; k < input.length; k++) input[k] += config.encoderNoise * rng.normal();
      const code = encoder.forward(input, rows.length, true);
      let gradCode: Float32Array;
      if (frozen) {
        const output = frozen.forward(code, rows.length, true);
        const grad = new Float32Array(output.length);
        lossSum += native.mse(output, clean, null, rows.length, features.cols, grad) / rows.length;
        gradCode = frozen.backward(grad, rows.length);
        frozen.zeroGrad();
      } else {
        const target = gatherRows(warmTargets, rows);
        gradCode = new Float32Array(code.length);
        lossSum += native.mse(code, target, null, rows.length, warmTargets.cols, gradCode) / rows.length;
      }
      encoder.backward(gradCode, rows.length);
      encoder.adamStep(config.lr, 0.9, 0.999, 1e-8);
      progress.update(b + 1);
      if (b % 8 === 7) await new Promise((resolve) => setImmediate(resolve)); // let the progress bar draw
    }
    log.push(lossSum / Math.max(1, batches));
    progress.finish(`loss ${log[log.length - 1].toFixed(5)}`);
  }
  return { encoder, log };
}

function frozenCopy(decoder: Mlp, outputRelu: boolean): Mlp {
  const copy = new native.Mlp(decoder.sizes, { dropout: 0, outputRelu, seed: 0 });
  copy.setParams(decoder.getParams());
  return copy;
}

/** Embeds feature rows (already scaled like the training features) with M, in batches. */
export function encode(encoder: Mlp, features: Matrix, batchSize = 1024): Matrix {
  const dim = encoder.sizes[encoder.sizes.length - 1];
  const out = new Float32Array(features.rows * dim);
  for (let start = 0; start < features.rows; start += batchSize) {
    const rows = Math.min(batchSize, features.rows - start);
    const input = features.data.subarray(start * features.cols, (start + rows) * features.cols);
    out.set(encoder.forward(input, rows, false), start * dim);
  }
  return { data: out, rows: features.rows, cols: dim };
}
