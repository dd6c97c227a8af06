// The `vasg` command line (the commands are in program.ts): parse, run, report errors as one line on stderr.
import { buildProgram } from './program.js';

const program = buildProgram();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`vasg: error: ${(error as Error).message}\n`);
  if (process.env.VASG_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
}
