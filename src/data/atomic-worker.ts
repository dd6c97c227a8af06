// The worker thread of writeDirectoryAtomicOffThread: writes one directory with writeDirectoryAtomic and
// reports back (no message other than done or the error).
import { parentPort, workerData } from 'node:worker_threads';
import { writeDirectoryAtomic } from './atomic.js';

const { dir, files } = workerData as { dir: string; files: Array<[string, Uint8Array]> };
try {
  writeDirectoryAtomic(dir, files);
  parentPort!.postMessage({});
} catch (error) {
  parentPort!.postMessage({ error: (error as Error).message });
}
