// OpenBLAS's thread count is process-wide: a model that needs a count sets it for its own call and puts the
// previous one back, so training one model never changes how another (or the caller) runs. Calls that overlap
// in time (two trainings awaited together) still share the setting: run them one after the other.
import { native } from '../native.js';

/** Runs `run` (synchronous or a promise) with OpenBLAS on `threads` threads, then restores the previous count. */
export function withBlasThreads<T>(threads: number, run: () => T): T {
  const previous = native.blasThreads();
  native.setBlasThreads(threads);
  let result: T;
  try {
    result = run();
  } catch (error) {
    native.setBlasThreads(previous);
    throw error;
  }
  if (result instanceof Promise) return result.finally(() => native.setBlasThreads(previous)) as T;
  native.setBlasThreads(previous);
  return result;
}
