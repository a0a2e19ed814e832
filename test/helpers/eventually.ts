/** Retries `check` until it passes or `timeoutMs` runs out (then throws its last error); resolves with its value. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000, pauseMs = 50): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() - started > timeoutMs) throw error;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}
