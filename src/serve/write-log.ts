// The service's write-ahead log: one framed record per acknowledged write (new products, availability,
// user events), fsync'd before the HTTP answer goes out. Frame: u32 LE payload length, u32 LE CRC-32 of the
// payload, the payload (one JSON object, UTF-8). At start the log is checked frame by frame:
// - damage that runs to the end of the file with no intact frame after it is a torn last record (kill -9
//   in the middle of an append: never acknowledged); it is dropped with a one-line notice;
// - damage with intact frames after it (a flipped bit, an edited file) would silently drop acknowledged
//   writes, so the start stops with an error naming the file, the byte offset and the frames after it,
//   unless `repair` is asked: every intact frame is kept, the damaged bytes go to a side file.
// Intact frames after damage are found again by scanning for a frame whose length fits, whose payload starts
// with "{" and whose CRC-32 matches (a false match has odds of about 2^-32 per position).
//
// Compaction while serving rotates the log: the file is renamed to `FILE.compacting` (the records the
// compaction is folding into the model directory) and a fresh FILE takes the writes that arrive meanwhile.
// Replay reads FILE.compacting, then FILE: the records in write order.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fsyncDir, writeFileAtomic } from '../data/atomic.js';
import { InputError } from '../errors.js';

const HEADER = 8;

export class WriteLog {
  private fd: number;
  /** Bytes in the current file (records since the last rotation or clear). */
  bytes: number;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a');
    this.bytes = fs.fstatSync(this.fd).size;
  }

  /** The file that holds the records of a compaction in progress. */
  static rotatedFile(file: string): string {
    return `${file}.compacting`;
  }

  /**
   * Every intact record of a log and of its rotated part, older first. A torn tail is dropped (and cut off
   * the file); damage before the last record throws unless `options.repair` (see the file's header).
   */
  static replay(file: string, options: ReplayOptions = {}): unknown[] {
    const notice = options.notice ?? ((line: string) => process.stderr.write(`${line}\n`));
    const parts = [WriteLog.rotatedFile(file), file].filter((f) => fs.existsSync(f)).map((f) => ({ file: f, scan: scanFrames(fs.readFileSync(f)) }));
    for (const { file: f, scan } of parts) {
      const tail = scan.damaged.at(-1);
      // Only the live file can end in a torn append: the rotated part was complete before its rename.
      const torn = f === file && tail !== undefined && tail.end === scan.size && !scan.frames.some((fr) => fr.start > tail.start);
      const damaged = torn ? scan.damaged.slice(0, -1) : scan.damaged;
      if (damaged.length > 0 && (!options.repair || options.readOnly)) throw damageError(f, scan, damaged[0]);
      if (damaged.length > 0) repair(f, scan, notice);
      else if (torn && !options.readOnly) {
        fs.truncateSync(f, tail.start);
        notice(`vasg serve: ${f}: dropped a torn last record (bytes ${tail.start}–${tail.end}, a write cut short by a crash, never acknowledged)`);
      }
    }
    return parts.flatMap((p) => p.scan.frames.map((fr) => fr.record));
  }

  /** As `replay`, but never changes the files: for readers beside a running server, whose last record may be half written. */
  static read(file: string): unknown[] {
    return [WriteLog.rotatedFile(file), file].filter((f) => fs.existsSync(f)).flatMap((f) => scanFrames(fs.readFileSync(f)).frames.map((fr) => fr.record));
  }

  /** Appends one record and waits until it is on disk. */
  append(record: unknown): void {
    const payload = Buffer.from(JSON.stringify(record), 'utf8');
    const frame = Buffer.alloc(HEADER + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    frame.writeUInt32LE(zlib.crc32(payload), 4);
    payload.copy(frame, HEADER);
    fs.writeSync(this.fd, frame);
    fs.fsyncSync(this.fd);
    this.bytes += frame.length;
  }

  /**
   * Starts a compaction: the records so far move to FILE.compacting and later ones go to a fresh FILE.
   * Both names are on disk (directory fsync'd) before the next write can be acknowledged.
   */
  rotate(): void {
    fs.closeSync(this.fd);
    fs.renameSync(this.file, WriteLog.rotatedFile(this.file));
    this.fd = fs.openSync(this.file, 'a');
    this.bytes = 0;
    fsyncDir(path.dirname(this.file));
  }

  /** Ends a compaction once the model directory holds the rotated records. */
  dropRotated(): void {
    fs.rmSync(WriteLog.rotatedFile(this.file), { force: true });
    fsyncDir(path.dirname(this.file));
  }

  /** Empties the log (and its rotated part) once every record is compacted into the model directory. */
  clear(): void {
    fs.ftruncateSync(this.fd, 0);
    fs.fsyncSync(this.fd);
    this.bytes = 0;
    this.dropRotated();
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

export interface ReplayOptions {
  /** Keep every intact record of a log damaged before its last record, moving the damaged bytes to a side file. */
  repair?: boolean;
  /** Where the one-line notices go (default: stderr). */
  notice?: (line: string) => void;
  /** Read only (a report beside a running server): a torn last record is skipped, nothing is truncated or repaired. */
  readOnly?: boolean;
}

interface Frame { start: number; end: number; record: unknown }
/** Bytes [start, end) that hold no intact frame. */
interface Damage { start: number; end: number }
interface Scan { size: number; frames: Frame[]; damaged: Damage[]; bytes: Buffer }

/** Splits a log into intact frames and damaged byte ranges. */
function scanFrames(bytes: Buffer): Scan {
  const frames: Frame[] = [];
  const damaged: Damage[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const frame = frameAt(bytes, offset);
    if (frame) {
      frames.push(frame);
      offset = frame.end;
      continue;
    }
    let next = offset + 1;
    while (next < bytes.length && !frameAt(bytes, next)) next++;
    damaged.push({ start: offset, end: next });
    offset = next;
  }
  return { size: bytes.length, frames, damaged, bytes };
}

/** The intact frame starting at `offset`, if there is one. */
function frameAt(bytes: Buffer, offset: number): Frame | null {
  if (offset + HEADER > bytes.length) return null;
  const length = bytes.readUInt32LE(offset);
  const end = offset + HEADER + length;
  if (length === 0 || end > bytes.length || bytes[offset + HEADER] !== 0x7b) return null;
  const payload = bytes.subarray(offset + HEADER, end);
  if (zlib.crc32(payload) !== bytes.readUInt32LE(offset + 4)) return null;
  try {
    return { start: offset, end, record: JSON.parse(payload.toString('utf8')) };
  } catch {
    return null;
  }
}

function sideFile(file: string): string {
  return `${file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
}

function damageError(file: string, scan: Scan, first: Damage): InputError {
  const after = scan.frames.filter((fr) => fr.start >= first.end);
  const kept = scan.frames.length;
  return new InputError(`${file}: damaged bytes at byte offset ${first.start} (${first.end - first.start} bytes that are no intact record), ` +
    `followed by ${after.length} intact record${after.length === 1 ? '' : 's'} (bytes ${after[0]?.start ?? first.end}–${scan.size}) that are acknowledged writes; ` +
    `vasg serve stops rather than drop them. Start it with --repair-log to keep all ${kept} intact records and move the damaged bytes to ${file}.damaged-<time> ` +
    '(docs/serving-robustness.md, "Repairing a damaged write log")', file);
}

/** Moves the damaged ranges to a side file and rewrites the log with its intact frames only (atomically). */
function repair(file: string, scan: Scan, notice: (line: string) => void): void {
  const side = sideFile(file);
  const damagedBytes = scan.damaged.reduce((n, d) => n + d.end - d.start, 0);
  writeFileAtomic(side, scan.damaged.map((d) => scan.bytes.subarray(d.start, d.end)));
  writeFileAtomic(file, scan.frames.map((fr) => scan.bytes.subarray(fr.start, fr.end)));
  notice(`vasg serve: ${file}: repaired: kept ${scan.frames.length} intact records, moved ${damagedBytes} damaged bytes ` +
    `(${scan.damaged.length} range${scan.damaged.length === 1 ? '' : 's'}, first at byte ${scan.damaged[0].start}) to ${side}`);
}
