/** Polling helpers for tests: conditions that become true asynchronously (replication caught up, leader elected). */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `fn` until it returns true, starting every 50 ms and backing off to 500 ms. A throw counts as "not yet"
 * (the server may be restarting); the last error is quoted if the wait times out.
 */
/** `what` may be a function: it is read when the wait fails, so it can quote the last state the check saw. */
export async function waitFor(
  fn: () => Promise<boolean>,
  timeoutMs: number,
  what: string | (() => string),
): Promise<void> {
  const t0 = Date.now();
  let delay = 50;
  let lastError: unknown;
  for (;;) {
    // A check that never settles (a hung query or KV listing) must end the wait too, with that said.
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`a check did not settle within ${timeoutMs} ms`)),
        Math.max(1, timeoutMs - (Date.now() - t0)),
      );
    });
    const check = fn();
    check.catch(() => undefined);
    try {
      if (await Promise.race([check, hung])) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    } finally {
      clearTimeout(timer);
    }
    const elapsed = Date.now() - t0;
    if (elapsed >= timeoutMs) {
      const why =
        lastError === undefined
          ? ''
          : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${why}`,
        { cause: lastError },
      );
    }
    await sleep(Math.min(delay, timeoutMs - elapsed));
    delay = Math.min(delay * 2, 500);
  }
}
