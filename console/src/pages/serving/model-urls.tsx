/** A served version's model URLs — by version, by stage, by alias — in full, each with a copy button. */
import type { EndpointVersionJson } from '../../api/serving';
import { CopyButton } from '../../ui/copy-button';

export interface VersionRef {
  readonly kind: 'version' | 'stage' | 'alias';
  /** The reference in the URL: `2`, `Production`, `@champion`. */
  readonly ref: string;
  /** The scoring path, as the server gives it. */
  readonly path: string;
}

/** What each scoring URI of a version refers to it by. */
export function refsOf(version: EndpointVersionJson): VersionRef[] {
  return version.scoring_uris.map((path) => {
    const segment = path.split('/').at(-2) ?? '';
    let ref = segment;
    try {
      ref = decodeURIComponent(segment);
    } catch {
      // keep it as written
    }
    const kind = ref.startsWith('@') ? 'alias' : /^[0-9]+$/.test(ref) ? 'version' : 'stage';
    return { kind, ref, path };
  });
}

/** The URL a path answers at, on this server. */
export const fullUrl = (path: string) => `${location.origin}${path}`;

const KIND_WORDS = { version: 'By version', stage: 'By stage', alias: 'By alias' } as const;

export function ModelUrls(props: { readonly version: EndpointVersionJson }) {
  return (
    <>
      <h3 id="model-url-title">Model URL</h3>
      <ul class="model-urls" aria-labelledby="model-url-title">
        {refsOf(props.version).map((r) => (
          <li key={r.path}>
            <span class="model-url-kind">
              {KIND_WORDS[r.kind]}
              {r.kind === 'version' ? '' : ` (${r.ref})`}
            </span>
            <code class="model-url">{fullUrl(r.path)}</code>
            <CopyButton
              text={fullUrl(r.path)}
              label={`Copy the model URL ${KIND_WORDS[r.kind].toLowerCase()} ${r.ref}`}
            />
          </li>
        ))}
      </ul>
    </>
  );
}
