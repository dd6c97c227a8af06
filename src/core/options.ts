// Option tables (fastText's `Args`): every model's options are one table of rows {key, flag, description,
// default, type}. The CLI's flags and the library's defaults and checks are generated from the same rows,
// so they cannot disagree, and every value is validated here and nowhere else.
import os from 'node:os';
import { ConfigError } from '../errors.js';

/** How one option's value is read from its flag's text and checked, in the CLI and in the library alike. */
export interface ValueType<T> {
  /** What a valid value is, for messages: "an integer in [1, 4096]". */
  expected: string;
  /** Flag text → value; malformed text gives a value `valid` rejects. Absent for on/off switches. */
  parse?: (text: string) => T;
  valid: (value: unknown) => boolean;
}

/** One option of a model: its key in the options record, CLI flag, help text, default and type. */
export interface OptionSpec<C, K extends keyof C = keyof C> {
  key: K;
  /** `--dim <n>`; switches: `--weighted-walks` (default false) or `--no-visual` (default true). */
  flag: string;
  description: string;
  default: C[K];
  type: ValueType<C[K]>;
}

/** Bounds as people write them: 1e-8, not 0.00000001. */
const show = (n: number) => (n === Infinity || n === Number.MAX_SAFE_INTEGER ? '∞' : n !== 0 && Math.abs(n) < 1e-3 ? n.toExponential() : String(n));
const isInteger = (lo: number, hi: number) => (v: unknown): v is number => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
const parseInteger = (text: string) => (/^-?\d+$/.test(text.trim()) ? Number(text) : NaN);

export function integer(lo: number, hi: number): ValueType<number> {
  return { expected: `an integer in [${lo}, ${show(hi)}]`, parse: parseInteger, valid: isInteger(lo, hi) };
}

export function oddInteger(lo: number, hi: number): ValueType<number> {
  return { expected: `an odd integer in [${lo}, ${hi}]`, parse: parseInteger, valid: (v) => isInteger(lo, hi)(v) && v % 2 === 1 };
}

export function number(lo: number, hi: number): ValueType<number> {
  return {
    expected: `a number in [${show(lo)}, ${show(hi)}]`,
    parse: (text) => (text.trim() === '' ? NaN : Number(text)),
    valid: (v) => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi,
  };
}

export function integerList(lo: number, hi: number): ValueType<number[]> {
  return {
    expected: `a comma-separated list of integers in [${lo}, ${hi}] such as 256,512,1024,2048`,
    parse: (text) => text.split(',').map(parseInteger),
    valid: (v) => Array.isArray(v) && v.length > 0 && v.every(isInteger(lo, hi)),
  };
}

export function oneOf<T extends string>(...choices: T[]): ValueType<T> {
  return { expected: `one of ${choices.join(', ')}`, parse: (text) => text as T, valid: (v) => choices.includes(v as T) };
}

export const onOff: ValueType<boolean> = { expected: 'true or false', valid: (v) => typeof v === 'boolean' };

/** A typed row of an option table. */
export function option<C, K extends keyof C>(key: K, flag: string, description: string, defaultValue: C[K], type: ValueType<C[K]>): OptionSpec<C, K> {
  return { key, flag, description, default: defaultValue, type };
}

/** Worker threads (native kernels, BLAS) unless an option says otherwise: the machine's cores, for every model. */
export function defaultThreads(): number {
  return Math.max(1, os.availableParallelism());
}

/** The `threads` row every model's table shares, so the default is said once. */
export function threadsOption<C extends { threads: number }>(): OptionSpec<C, 'threads'> {
  return option<C, 'threads'>('threads', '--threads <n>', 'worker threads, one per core unless set', defaultThreads() as C['threads'], integer(1, 256) as ValueType<C['threads']>);
}

/** The `seed` row every model's table shares. */
export function seedOption<C extends { seed: number }>(): OptionSpec<C, 'seed'> {
  return option<C, 'seed'>('seed', '--seed <n>', 'random seed', 1 as C['seed'], integer(0, 2 ** 31 - 1) as ValueType<C['seed']>);
}

/** The defaults of a table as an options record. */
export function defaultsOf<C>(table: readonly OptionSpec<C>[]): C {
  return Object.fromEntries(table.map((o) => [o.key, o.default])) as unknown as C;
}

/**
 * Merges overrides into the table's defaults and checks every field; throws a ConfigError
 * "`label`: field must be expected, got value" naming the first bad one. Keys the table does not know are refused.
 */
export function resolveOptions<C>(label: string, table: readonly OptionSpec<C>[], overrides: Partial<C> = {}): C {
  const known = new Set<PropertyKey>(table.map((o) => o.key));
  const unknown = Object.keys(overrides).find((key) => !known.has(key));
  if (unknown !== undefined) {
    throw new ConfigError(`${label}: unknown option "${unknown}" (its options: ${table.map((o) => String(o.key)).join(', ')})`, unknown);
  }
  const options = { ...defaultsOf(table), ...overrides };
  for (const { key, type } of table) {
    if (!type.valid(options[key])) throw new ConfigError(`${label}: ${String(key)} must be ${type.expected}, got ${JSON.stringify(options[key])}`, String(key));
  }
  return options;
}
