// Feature extractors: a batch of images (files or encoded bytes) → one feature row per image.
// `builtin:color` needs no model; an ONNX image model (the user's own) runs in onnxruntime-node on
// the CPU. Both are asynchronous (sharp decodes and onnxruntime runs off the event loop), so
// `vasg serve` can use them between requests.
import fs from 'node:fs';
import crypto from 'node:crypto';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { loadRgb, type ImageSource, type RgbImage } from './image.js';
import { COLOR_SIZE, colorFeatures } from './color.js';

export interface FeatureExtractor {
  /** Identifies the model and its settings: a resumed run must use the same. */
  readonly key: string;
  /** One entry per image: its feature row, or the Error that made the image unusable. */
  extract(images: ImageSource[]): Promise<Array<Float32Array | Error>>;
  close(): Promise<void>;
}

export interface OnnxOptions {
  /** Side of the square input, in pixels. */
  inputSize: number;
  /** Per-channel mean and sd applied to pixel/255 (ImageNet's by default). */
  mean: number[];
  std: number[];
  /** Output to read; the model's first output when absent. */
  output?: string;
}

export const BUILTIN_COLOR = 'builtin:color';
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

/** Decodes every image; a failure stays in its slot so one bad image never stops the batch. */
async function loadAll(sources: ImageSource[], size: number): Promise<Array<RgbImage | Error>> {
  return Promise.all(sources.map((source) => loadRgb(source, size).catch((error: Error) => new Error(error.message))));
}

export function colorExtractor(): FeatureExtractor {
  return {
    key: `${BUILTIN_COLOR}/1`,
    async extract(sources) {
      return (await loadAll(sources, COLOR_SIZE)).map((image) => (image instanceof Error ? image : colorFeatures(image)));
    },
    async close() {},
  };
}

/** The NCHW float tensor data of decoded images: (pixel/255 − mean) / std per channel. */
export function normalisedBatch(images: RgbImage[], mean: number[], std: number[]): Float32Array {
  const size = images[0]?.size ?? 0;
  const plane = size * size;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((image, n) => {
    for (let c = 0; c < 3; c++) {
      const base = (n * 3 + c) * plane;
      for (let p = 0; p < plane; p++) out[base + p] = (image.data[3 * p + c] / 255 - mean[c]) / std[c];
    }
  });
  return out;
}

export async function onnxExtractor(modelFile: string, options: OnnxOptions): Promise<FeatureExtractor> {
  if (!fs.existsSync(modelFile)) throw new Error(`${modelFile}: ONNX model not found`);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelFile, { executionProviders: ['cpu'] });
  } catch (error) {
    throw new Error(`${modelFile}: cannot load the ONNX model: ${(error as Error).message}`);
  }
  const output = options.output ?? session.outputNames[0];
  if (!session.outputNames.includes(output)) {
    throw new Error(`${modelFile}: has no output "${output}"; its outputs are ${session.outputNames.map((n) => `"${n}"`).join(', ')}`);
  }
  const input = session.inputNames[0];
  const digest = crypto.createHash('sha256').update(fs.readFileSync(modelFile)).digest('hex').slice(0, 16);
  const { inputSize, mean, std } = options;
  return {
    key: `onnx:${digest}/${output}/${inputSize}/${mean.join(',')}/${std.join(',')}`,
    async extract(sources) {
      const loaded = await loadAll(sources, inputSize);
      const images = loaded.filter((x): x is RgbImage => !(x instanceof Error));
      if (images.length === 0) return loaded as Error[];
      const tensor = new ort.Tensor('float32', normalisedBatch(images, mean, std), [images.length, 3, inputSize, inputSize]);
      let result: ort.InferenceSession.OnnxValueMapType;
      try {
        result = await session.run({ [input]: tensor }, [output]);
      } catch (error) {
        // A model that cannot take [batch, 3, size, size] is a usage error, not a bad image.
        throw new Error(`${modelFile}: running the model on a [${images.length}, 3, ${inputSize}, ${inputSize}] batch failed: ${(error as Error).message}`);
      }
      const values = result[output].data as Float32Array;
      const width = values.length / images.length;
      let next = 0;
      return loaded.map((x) => (x instanceof Error ? x : values.slice(width * next, width * ++next)));
    },
    async close() {
      await session.release();
    },
  };
}

/** What selects and configures an extractor: `vasg features --model` / `vasg serve --features-model` and the preprocessing flags. */
export interface ExtractorChoice extends OnnxOptions {
  /** `builtin:color` or the path of an ONNX image model. */
  model: string;
}

export async function createExtractor(choice: ExtractorChoice): Promise<FeatureExtractor> {
  if (choice.model === BUILTIN_COLOR) return colorExtractor();
  if (choice.model.startsWith('builtin:')) throw new Error(`unknown built-in "${choice.model}"; the built-in is ${BUILTIN_COLOR}`);
  if (choice.std.some((s) => s === 0)) throw new Error('--std: a channel sd of 0 would divide by zero');
  return onnxExtractor(choice.model, choice);
}

/** How many features the extractor gives per image, found by running it on one plain probe image. */
export async function featureWidth(extractor: FeatureExtractor): Promise<number> {
  const probe = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#808080' } }).png().toBuffer();
  const [row] = await extractor.extract([probe]);
  if (row instanceof Error) throw new Error(`the features model cannot read a plain 32×32 PNG: ${row.message}`);
  return row.length;
}
