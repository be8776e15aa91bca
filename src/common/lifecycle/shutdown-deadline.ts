import type { EventEmitter } from 'node:events';

/**
 * Bounds shutdown: once one of `signals` arrives, the process exits after `timeoutMs` whatever is
 * still pending (a webhook backlog retrying, a sink that never answers). Nothing is lost by it:
 * queued events stay in the store, leased queues are released by lease expiry to the next
 * instance. The timer is unref'd, so a clean shutdown exits earlier on its own.
 */
export function armShutdownDeadline(emitter: EventEmitter, timeoutMs: number, onExpired: () => void, signals: readonly string[] = ['SIGTERM', 'SIGINT']): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer ??= setTimeout(onExpired, timeoutMs);
    timer.unref();
  };
  for (const s of signals) emitter.once(s, arm);
  return () => {
    if (timer) clearTimeout(timer);
    for (const s of signals) emitter.removeListener(s, arm);
  };
}

/** Resolves with `work`, or after `ms` calling `onLate` (the work goes on unawaited). */
export async function withDeadline(work: Promise<void>, ms: number, onLate: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      onLate();
      resolve();
    }, ms);
  });
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
