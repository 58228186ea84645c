/**
 * Calls `onGone` once this process's parent has exited. `npm run` does not pass SIGTERM on to the script it
 * runs: when npm is terminated, its child is re-parented and would keep a foreground stack running with
 * nobody to stop it. Commands that run until stopped (`local up`, `demo --keep`) treat that as a stop.
 * The check is a cheap poll of `process.ppid`; the timer also keeps the event loop alive until stopped.
 * Returns a function that ends the watch.
 */
export function watchParent(onGone: () => void, intervalMs = 1000): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  return () => {
    clearInterval(timer);
  };
}
