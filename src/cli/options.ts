// Flag parsers shared by the commands: each names what it expected and what it got.
import { InvalidArgumentError, Option } from 'commander';
import { CONFIG_OPTIONS, type TrainConfig } from '../model/config.js';
import { integer, number, oneOf as choiceOf, type OptionSpec, type ValueType } from '../core/options.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../features/extractors.js';
import { consoleProgress, silentProgress, type Progress } from '../progress.js';
import { parseKs } from '../eval/topk.js';
import { NPY_DTYPES } from '../data/npy.js';

/** `--dtype float16|float32`: how features.npy stores the features (float16 halves the file; every reader takes both). */
export function dtypeOption(): Option {
  return new Option('--dtype <type>', 'storage type of features.npy (float16: half the bytes; values must be within ±65504)').choices([...NPY_DTYPES]).default('float32');
}

/** A commander parser from a value type of core/options.ts: the same checks and messages as the option tables. */
export function parserOf<T>(type: ValueType<T>): (text: string) => T {
  const parse = type.parse!;
  return (text: string): T => {
    const value = parse(text);
    if (!type.valid(value)) throw new InvalidArgumentError(`expected ${type.expected}, got "${text}"`);
    return value;
  };
}

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => parserOf(integer(min, max));
export const num = (min: number, max = Number.POSITIVE_INFINITY) => parserOf(number(min, max));
export const oneOf = <T extends string>(...choices: T[]) => parserOf(choiceOf(...choices));

/** `--k 10,20,50`: the cut-offs of Recall@K and NDCG@K. */
export function kList(value: string): number[] {
  try {
    return parseKs(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** Progress on stderr, or none with --json so stdout carries only the JSON document. */
export function progressFor(options: { json?: boolean; quiet?: boolean }): Progress {
  return options.json || options.quiet ? silentProgress : consoleProgress();
}

/** The flag of one training option, from its row of CONFIG_OPTIONS: same help, default, parser and bounds as the library. */
export function configFlag(key: keyof TrainConfig): Option {
  return optionFlag(CONFIG_OPTIONS.find((o) => o.key === key)!);
}

/** The flag of a row of any model's option table, with its default and checks. */
export function optionFlag<C>({ flag, description, default: value, type }: OptionSpec<C>): Option {
  const option = new Option(flag, description);
  if (!type.parse) return flag.startsWith('--no-') ? option : option.default(value);
  return option.default(value, describeDefault(value)).argParser(parserOf(type));
}

/** A default as its flag would be typed: 256,512 for a list, purchase=1,view=0.05 for a record; else commander's own. */
function describeDefault(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object' && value !== null) return Object.entries(value).map(([k, v]) => `${k}=${v}`).join(',');
  return undefined;
}

function channelTriple(value: string): number[] {
  const parts = value.split(',').map(Number);
  if (parts.length !== 3 || parts.some((v) => !Number.isFinite(v))) throw new InvalidArgumentError(`expected three comma-separated numbers (R,G,B), got "${value}"`);
  return parts;
}

/** The preprocessing flags of an ONNX image model, shared by `vasg features` and `vasg serve --features-model`. */
export function imageModelOptions(): Option[] {
  return [
    new Option('--input-size <px>', 'ONNX model input side in pixels').argParser(int(1, 4096)).default(224),
    new Option('--mean <r,g,b>', 'per-channel mean subtracted from pixel/255 (ONNX)').argParser(channelTriple).default(IMAGENET_MEAN, 'ImageNet'),
    new Option('--std <r,g,b>', 'per-channel sd dividing pixel/255 − mean (ONNX)').argParser(channelTriple).default(IMAGENET_STD, 'ImageNet'),
    new Option('--output <name>', 'model output to use as the features (default: its first output)'),
  ];
}
