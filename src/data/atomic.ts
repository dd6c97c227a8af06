// Crash-safe file output: data goes to a temporary file in the target directory, is fsynced,
// then renamed over the final name, so a reader never sees a half-written file under that name.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../errors.js';

/**
 * File contents: text, bytes, or parts written in order (avoids concatenating large buffers). Parts may
 * come from a generator: each is written before the next is asked for, so it may reuse one buffer.
 */
export type FileData = string | ArrayBufferView | Iterable<string | ArrayBufferView>;

/** Largest single write; fs.writeSync cannot take more than 2 GiB at once. */
const MAX_WRITE = 1 << 30;

let tempCounter = 0;

function tempPathFor(finalPath: string): string {
  const dir = path.dirname(finalPath);
  const base = path.basename(finalPath);
  tempCounter += 1;
  return path.join(dir, `.${base}.tmp-${process.pid}-${Date.now().toString(36)}-${tempCounter}`);
}

function writeAll(fd: number, part: string | ArrayBufferView): void {
  const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
  for (let offset = 0; offset < bytes.byteLength;) {
    const length = Math.min(MAX_WRITE, bytes.byteLength - offset);
    offset += fs.writeSync(fd, bytes, offset, length);
  }
}

/** Writes `data` to a fresh temporary file beside `finalPath`, fsynced; returns the temporary path. */
export function stageFile(finalPath: string, data: FileData): string {
  const temp = tempPathFor(finalPath);
  const fd = fs.openSync(temp, 'wx', 0o644);
  try {
    for (const part of typeof data === 'string' || ArrayBuffer.isView(data) ? [data] : data) writeAll(fd, part);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    removeQuietly(temp);
    throw error;
  }
  fs.closeSync(fd);
  return temp;
}

/** Flushes a directory entry change (rename) to disk; not supported everywhere, so failures are ignored. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some platforms/filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // Already gone.
  }
}

/** Atomically replaces `filePath` with `data` (temp file in the same directory, fsync, rename). */
export function writeFileAtomic(filePath: string, data: FileData): void {
  const temp = stageFile(filePath, data);
  try {
    fs.renameSync(temp, filePath);
  } catch (error) {
    removeQuietly(temp);
    throw error;
  }
  fsyncDir(path.dirname(filePath));
}

/**
 * The swap deletes whatever the old directory held, so it only replaces an empty directory or an
 * earlier output: one with the completion marker, or holding a file of the same name (outputs of
 * older versions had no marker). `--out ~` must not wipe a home directory.
 */
function refuseForeignDirectory(dir: string, names: string[]): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw new ConfigError(`${dir}: exists and is not a directory`);
  const present = fs.readdirSync(dir);
  if (present.length === 0 || present.includes(COMPLETE_MARKER) || names.some((name) => present.includes(name))) return;
  throw new ConfigError(`${dir}: refusing to replace a non-empty directory that vasg did not write (it holds ${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}); choose another output directory`);
}

/**
 * Checks, before any work starts, that `dir` can be written as a whole by `writeDirectoryAtomic`
 * later: not a foreign directory (`signature` is a file every earlier output holds), and a sibling
 * directory can be created beside it. Minutes of training are not lost to a bad --out.
 */
export function checkOutputDirectory(dir: string, signature: string): void {
  const parent = path.dirname(path.resolve(dir));
  try {
    fs.mkdirSync(parent, { recursive: true });
    fs.rmdirSync(fs.mkdtempSync(path.join(parent, `.${path.basename(dir)}.probe-`)));
  } catch (error) {
    throw new ConfigError(`${dir}: cannot write an output directory here (${(error as Error).message})`);
  }
  recoverDirectory(dir);
  refuseForeignDirectory(dir, [signature]);
}

/** Written last into a staged directory: its presence says every other file there is complete. */
const COMPLETE_MARKER = '.vasg-complete';

/** Test hook: VASG_FAULT_AFTER_RENAME=N kills the process right after the N-th rename of a directory swap. */
let renamesDone = 0;
function renameWithFaultHook(from: string, to: string): void {
  fs.renameSync(from, to);
  renamesDone += 1;
  if (Number(process.env.VASG_FAULT_AFTER_RENAME) === renamesDone) process.kill(process.pid, 'SIGKILL');
}

/** Siblings `.<name>.<kind>-…` of `dir` left by directory swaps, newest first. */
function swapSiblings(dir: string, kind: 'tmp' | 'old'): string[] {
  const parent = path.dirname(dir);
  const prefix = `.${path.basename(dir)}.${kind}-`;
  if (!fs.existsSync(parent)) return [];
  return fs.readdirSync(parent).filter((name) => name.startsWith(prefix)).map((name) => path.join(parent, name))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
}

/**
 * Finishes or undoes a directory swap that a crash interrupted, and removes what such crashes left
 * behind. With `dir` missing, a complete staged directory is rolled forward, otherwise the previous
 * directory is put back. Readers call this before reading, writers before writing.
 */
export function recoverDirectory(dir: string): void {
  if (!fs.existsSync(dir)) {
    const staged = swapSiblings(dir, 'tmp').find((d) => fs.existsSync(path.join(d, COMPLETE_MARKER)));
    const previous = swapSiblings(dir, 'old')[0];
    const restore = staged ?? previous;
    if (restore) fs.renameSync(restore, dir);
  }
  if (fs.existsSync(dir)) {
    for (const litter of [...swapSiblings(dir, 'tmp'), ...swapSiblings(dir, 'old')]) fs.rmSync(litter, { recursive: true, force: true });
  }
}

/** An entry's contents; a refusal by its producer (e.g. a non-finite array) names the file. */
function produce(dir: string, name: string, data: FileData | (() => FileData)): FileData {
  if (typeof data !== 'function') return data;
  try {
    return data();
  } catch (error) {
    throw new ConfigError(`${path.join(dir, name)}: not saved, nothing in ${dir} was changed: ${(error as Error).message}`);
  }
}

/**
 * Replaces the directory `dir` as a whole or not at all: every file is written into a fresh sibling
 * directory and fsynced, a completion marker last, then two renames swap it in (the old directory
 * aside, the new one into place) and the old one is deleted. A crash at any point leaves either the
 * old or the new directory under `dir` once `recoverDirectory` has run — never a mix, never stale
 * files of an older version. Entries are produced lazily, one at a time, so large contents need not
 * all be in memory at once.
 */
export function writeDirectoryAtomic(dir: string, files: Array<[name: string, data: FileData | (() => FileData)]>): void {
  recoverDirectory(dir);
  refuseForeignDirectory(dir, files.map(([name]) => name));
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const suffix = `${process.pid}-${Date.now().toString(36)}-${++tempCounter}`;
  const staged = path.join(parent, `.${path.basename(dir)}.tmp-${suffix}`);
  fs.mkdirSync(staged);
  try {
    for (const [name, data] of files) {
      fs.renameSync(stageFile(path.join(staged, name), produce(dir, name, data)), path.join(staged, name));
    }
    fs.renameSync(stageFile(path.join(staged, COMPLETE_MARKER), ''), path.join(staged, COMPLETE_MARKER));
    fsyncDir(staged);
  } catch (error) {
    fs.rmSync(staged, { recursive: true, force: true });
    throw error;
  }
  const previous = path.join(parent, `.${path.basename(dir)}.old-${suffix}`);
  const hadPrevious = fs.existsSync(dir);
  if (hadPrevious) renameWithFaultHook(dir, previous);
  renameWithFaultHook(staged, dir);
  fsyncDir(parent);
  if (hadPrevious) fs.rmSync(previous, { recursive: true, force: true });
}

/** One fresh buffer per entry (its own ArrayBuffer, so it can be transferred to a worker): a copy of the contents now. */
function snapshot(dir: string, files: Array<[name: string, data: FileData | (() => FileData)]>): Array<[string, Uint8Array]> {
  return files.map(([name, data]) => {
    const produced = produce(dir, name, data);
    const parts = (typeof produced === 'string' || ArrayBuffer.isView(produced) ? [produced] : [...produced])
      .map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : new Uint8Array(part.buffer, part.byteOffset, part.byteLength)));
    const bytes = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.byteLength;
    }
    return [name, bytes];
  });
}

/**
 * `writeDirectoryAtomic` on a worker thread, so the event loop keeps running while the files are written
 * and fsynced. The contents are copied before this returns: later changes to the caller's arrays do not
 * reach the directory.
 */
export function writeDirectoryAtomicOffThread(dir: string, files: Array<[name: string, data: FileData | (() => FileData)]>): Promise<void> {
  const copies = snapshot(dir, files);
  const worker = new Worker(new URL('./atomic-worker.js', import.meta.url), {
    workerData: { dir, files: copies },
    transferList: copies.map(([, bytes]) => bytes.buffer as ArrayBuffer),
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (message: { error?: string }) => (message.error === undefined ? resolve() : reject(new Error(message.error))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the directory writer stopped with code ${code} before finishing ${dir}`)));
  });
}
