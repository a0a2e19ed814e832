/**
 * The console's one route table. The URL (its hash) holds the page, the tab and the filters, so
 * every view can be linked; builders make the links, `parseRoute` reads them back.
 */
import { useEffect, useState } from 'preact/hooks';

export const MODEL_TABS = ['versions', 'serving', 'permissions'] as const;
export type ModelTab = (typeof MODEL_TABS)[number];
export const SERVING_TABS = ['model-versions', 'model-events', 'compute-settings', 'metrics'] as const;
export type ServingTab = (typeof SERVING_TABS)[number];

export type Route =
  | { readonly page: 'models'; readonly filter: string; readonly page_token?: string }
  | {
      readonly page: 'model';
      readonly name: string;
      readonly tab: ModelTab;
      readonly serving: ServingTab;
      /** The selected version (Versions detail, Serving's Model Versions). */
      readonly version?: string;
      /** Serving's "Call the model" view: browser, curl or python. */
      readonly call: 'browser' | 'curl' | 'python';
      /** Serving's Metrics window (15m, 1h, 6h, 24h). */
      readonly window?: string;
    }
  | { readonly page: 'tokens' /** An admin's principal filter. */; readonly principal: string }
  | { readonly page: 'not-found'; readonly path: string };

const oneOf = <T extends string>(value: string | null | undefined, options: readonly T[], fallback: T): T =>
  options.includes(value as T) ? (value as T) : fallback;

/** Reads a location hash (`#/models/iris/serving/metrics?version=2`). */
export function parseRoute(hash: string): Route {
  const [pathPart = '', queryPart = ''] = hash.replace(/^#/, '').split('?', 2);
  const query = new URLSearchParams(queryPart);
  const parts = pathPart
    .split('/')
    .filter((p) => p !== '')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  if (parts.length === 0 || (parts[0] === 'models' && parts.length === 1)) {
    return { page: 'models', filter: query.get('filter') ?? '', page_token: query.get('page') ?? undefined };
  }
  if (parts[0] === 'models' && parts[1]) {
    return {
      page: 'model',
      name: parts[1],
      tab: oneOf(parts[2], MODEL_TABS, 'versions'),
      serving: oneOf(parts[3], SERVING_TABS, 'model-versions'),
      version: query.get('version') ?? undefined,
      call: oneOf(query.get('call'), ['browser', 'curl', 'python'] as const, 'browser'),
      window: query.get('window') ?? undefined,
    };
  }
  if (parts[0] === 'tokens') return { page: 'tokens', principal: query.get('principal') ?? '' };
  return { page: 'not-found', path: pathPart };
}

const withQuery = (path: string, query: Record<string, string | undefined>) => {
  const entries = Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '');
  return entries.length > 0 ? `${path}?${new URLSearchParams(entries).toString()}` : path;
};

/** Links to every view. */
export const href = {
  models: (filter = '', page?: string) => withQuery('#/models', { filter, page }),
  model: (
    name: string,
    tab: ModelTab = 'versions',
    options: { serving?: ServingTab; version?: string; call?: string; window?: string } = {},
  ) => {
    const base = `#/models/${encodeURIComponent(name)}/${tab}`;
    const path = tab === 'serving' ? `${base}/${options.serving ?? 'model-versions'}` : base;
    return withQuery(path, { version: options.version, call: options.call, window: options.window });
  },
  tokens: (principal = '') => withQuery('#/tokens', { principal }),
};

/** The current route, following the hash. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

/** Goes to a view, replacing the history entry when only a detail changes. */
export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else location.hash = to.replace(/^#/, '');
  if (replace) dispatchEvent(new HashChangeEvent('hashchange'));
}
