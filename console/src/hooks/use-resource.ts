/**
 * Server data for the page that shows it: loading, the data, the error, and a reload; polled
 * every `pollMs` while the page is visible (paused in a background tab), so state changes show
 * without a reload.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../api/client';

export interface Resource<T> {
  readonly data?: T;
  readonly error?: ApiError | Error;
  readonly loading: boolean;
  reload(): Promise<void>;
}

export function useResource<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
  options: { readonly pollMs?: number } = {},
): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load();
      if (mine === generation.current) setState({ data, loading: false });
    } catch (error) {
      if (mine === generation.current) setState((s) => ({ data: s.data, error: error as Error, loading: false }));
    }
  }, deps);

  useEffect(() => {
    setState({ loading: true });
    void reload();
    if (!options.pollMs) return;
    let timer: ReturnType<typeof setInterval> | undefined;
    const start = () => {
      if (timer === undefined) timer = setInterval(() => void reload(), options.pollMs);
    };
    const stop = () => {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    };
    const onVisibility = () => {
      if (document.visibilityState === 'visible') {
        void reload();
        start();
      } else stop();
    };
    if (document.visibilityState === 'visible') start();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      stop();
      document.removeEventListener('visibilitychange', onVisibility);
      generation.current++;
    };
  }, [reload, options.pollMs]);

  return { ...state, reload };
}
