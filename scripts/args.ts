// Command-line pieces shared by the experiment scripts: a flag's value, and `key=value` training-config overrides.
import type { TrainConfig } from '../src/model/config.js';

/** The value after `name` in process.argv (undefined when absent); a flag without a value names `usage`. */
export function flag(usage: string, name: string): string | undefined {
  const k = process.argv.indexOf(name);
  if (k < 0) return undefined;
  if (k + 1 >= process.argv.length) throw new Error(`${usage} (${name} needs a value)`);
  return process.argv[k + 1];
}

/** `key=value` arguments as config overrides; numbers and true/false are parsed, resolveConfig checks them. */
export function configOverrides(): Partial<TrainConfig> {
  const pairs = process.argv.slice(2).filter((a) => /^[a-zA-Z]+=/.test(a)).map((a) => a.split('=', 2));
  const value = (v: string) => (v === 'true' ? true : v === 'false' ? false : Number.isFinite(Number(v)) ? Number(v) : v);
  return Object.fromEntries(pairs.map(([k, v]) => [k, value(v)])) as Partial<TrainConfig>;
}
