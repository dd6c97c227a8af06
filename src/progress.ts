// Progress reporting for long work: a redrawn bar on a TTY, plain periodic lines otherwise,
// nothing in --json mode. Pipeline stages take a `Progress` and never print themselves.

export interface Progress {
  /** Starts a task of `total` units (0 = unknown). */
  start(label: string, total: number): void;
  /** Sets the number of finished units of the current task; `detail` is shown after the counter. */
  update(done: number, detail?: string): void;
  /** Ends the current task, printing `detail` (e.g. a final loss) on its line. */
  finish(detail?: string): void;
  /** A one-off message line (e.g. a per-epoch loss log entry). */
  log(message: string): void;
}

export const silentProgress: Progress = {
  start() {},
  update() {},
  finish() {},
  log() {},
};

/** Writes to stderr so that stdout stays clean for results. */
export function consoleProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = Boolean(stream.isTTY);
  let label = '';
  let total = 0;
  let started = 0;
  let lastDraw = 0;
  const elapsed = () => ((Date.now() - started) / 1000).toFixed(1) + 's';
  const line = (done: number, detail?: string) => {
    const counter = total > 0 ? `${done}/${total}` : `${done}`;
    const suffix = detail ? `  ${detail}` : '';
    if (!tty || total <= 0) return `${label}: ${counter} ${elapsed()}${suffix}`;
    const width = 30;
    const filled = Math.min(width, Math.round((done / total) * width));
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${counter} ${elapsed()}${suffix}`;
  };
  return {
    start(newLabel, newTotal) {
      label = newLabel;
      total = newTotal;
      started = Date.now();
      // A TTY bar draws at once; plain logs wait for the first 5 s interval.
      lastDraw = tty ? 0 : started;
      if (tty) stream.write(line(0));
    },
    update(done, detail) {
      const now = Date.now();
      // Redraw at most 10×/s on a TTY; plain logs get a line every 5 s.
      if (now - lastDraw < (tty ? 100 : 5000)) return;
      lastDraw = now;
      if (tty) stream.write(`\r\x1b[2K${line(done, detail)}`);
      else stream.write(line(done, detail) + '\n');
    },
    finish(detail) {
      const text = `${label}: done in ${elapsed()}${detail ? `  ${detail}` : ''}`;
      stream.write(tty ? `\r\x1b[2K${text}\n` : text + '\n');
    },
    log(message) {
      stream.write(message + '\n');
    },
  };
}
