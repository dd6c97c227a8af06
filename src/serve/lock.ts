// One owner per model directory: `vasg serve` holds an OS lock (flock(2), through the native core) on
// `DIR.serve.lock` beside the directory, taken before it reads or writes anything of it. The lock guards
// the server's own files (write log, serve_state.json, compaction), not the model's: `vasg train --out DIR`
// and readers such as `vasg recommend` take no lock. The kernel releases it when the process dies, kill -9
// included, so a restart never waits for a stale lock; the file stays (deleting it would race a new owner).
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { native } from '../native.js';

/**
 * The canonical path of a model directory: symlinks resolved, so every path that leads to the same
 * directory gives the same lock and log. A directory missing for a moment (a crash between the two
 * renames of a swap) resolves through its parent.
 */
export function canonicalDirectory(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.join(fs.realpathSync(path.dirname(path.resolve(dir))), path.basename(dir));
  }
}

export class DirectoryLock {
  private constructor(readonly file: string, private fd: number | null) {}

  /** The lock file of a canonical model directory. */
  static fileFor(canonicalDir: string): string {
    return `${canonicalDir}.serve.lock`;
  }

  /** Takes the lock or throws, naming the process that holds it; changes nothing else on disk. */
  static acquire(canonicalDir: string): DirectoryLock {
    const file = DirectoryLock.fileFor(canonicalDir);
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    let locked: boolean;
    try {
      locked = native.tryLockFile(fd);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    if (!locked) {
      fs.closeSync(fd);
      const holder = fs.readFileSync(file, 'utf8').trim();
      throw new ConfigError(`${canonicalDir}: already served by another vasg serve (pid ${/^\d+$/.test(holder) ? holder : 'unknown'}, lock ${file}); ` +
        'one server owns a model directory\'s write log: stop that one first, or serve a copy of the directory');
    }
    // The holder's pid, for the refusal above (the lock itself is the flock, not this text).
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, `${process.pid}\n`, 0);
    return new DirectoryLock(file, fd);
  }

  release(): void {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
  }
}
