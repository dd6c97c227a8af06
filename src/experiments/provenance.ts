// Where an experiment's numbers came from: the command, when, and on what machine. Stored in
// results.json beside the numbers, so a table rendered from it later (npm run docs:results) can say so.
import os from 'node:os';

export interface Provenance {
  /** The command line as typed, with `vasg` for the entry script. */
  command: string;
  /** ISO 8601, when the experiment finished. */
  date: string;
  machine: { cpu: string; cores: number; memoryGiB: number; os: string; node: string };
  /** The prepared split the numbers are on (a data set, without a split seed, for replay). */
  data?: { dir: string; users: number; items: number; splitSeed?: number };
}

/** `program` names the entry script in the command (`vasg`; the bench: `npm run bench --`). */
export function provenance(data: Provenance['data'], argv: string[] = process.argv, program = 'vasg'): Provenance {
  const cpus = os.cpus();
  return {
    command: [program, ...argv.slice(2).map(quoteArg)].join(' '),
    ...(data ? { data } : {}),
    date: new Date().toISOString(),
    machine: {
      cpu: cpus[0]?.model.trim() ?? 'unknown',
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
    },
  };
}

/** Quotes an argument only when a shell would split or expand it. */
function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
