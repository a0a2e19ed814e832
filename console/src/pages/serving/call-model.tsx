/**
 * Call the model, for one served version: in the browser (a request box, Load Example, Send
 * Request, the response with its status and time), or as a ready-to-run curl or Python snippet
 * for its model URL. The view is in the URL (`?call=browser|curl|python`).
 */
import { useState } from 'preact/hooks';
import { getInputExample, getModelInfo } from '../../api/registry';
import type { EndpointVersionJson } from '../../api/serving';
import { useResource } from '../../hooks/use-resource';
import { href } from '../../routes';
import { CopyButton } from '../../ui/copy-button';
import { ErrorBox } from '../../ui/error-box';
import { Tabs } from '../../ui/tabs';
import type { ModelRoute } from '../model';
import { BrowserCall } from './browser-call';
import { CodeBlock } from './code-block';
import { prettyJson } from './json-text';
import { fullUrl, refsOf } from './model-urls';
import { curlSnippet, pythonSnippet } from './snippets';

/** Why Load Example is disabled, if it is. */
function exampleReason(
  infoError: Error | undefined,
  hasExample: boolean | undefined,
  example: { readonly data?: string; readonly error?: Error },
): string | undefined {
  if (infoError) return 'Could not read the version';
  if (hasExample === false) return 'This version was logged without an input example';
  if (example.data === undefined)
    return example.error ? 'Could not read the input example' : 'Loading the input example…';
  return undefined;
}

export function CallModel(props: { readonly route: ModelRoute; readonly version: EndpointVersionJson }) {
  const { name, call } = props.route;
  const v = props.version.endpoint_version_name;
  const [body, setBody] = useState('');
  const info = useResource(() => getModelInfo(name, v), [name, v]);
  const hasExample = info.data?.has_input_example;
  const example = useResource(
    async () => (hasExample ? prettyJson(await getInputExample(name, v)) : undefined),
    [name, v, hasExample],
  );
  const path = refsOf(props.version).find((r) => r.kind === 'version')?.path ?? props.version.scoring_uris[0] ?? '';
  const link = (id: string) => href.model(name, 'serving', { serving: 'model-versions', version: v, call: id });
  const request = body.trim() || example.data || '';
  return (
    <>
      <h3>Call the model</h3>
      <Tabs
        label={`Call version ${v}`}
        idPrefix="call"
        selected={call}
        tabs={[
          { id: 'browser', label: 'Browser', href: link('browser') },
          { id: 'curl', label: 'Curl', href: link('curl') },
          { id: 'python', label: 'Python', href: link('python') },
        ]}
      >
        {call === 'browser' && (
          <BrowserCall
            version={props.version}
            path={path}
            body={body}
            onBody={setBody}
            example={example.data}
            exampleReason={exampleReason(info.data === undefined ? info.error : undefined, hasExample, example)}
          />
        )}
        {call === 'curl' && <Snippet language="curl" text={curlSnippet(fullUrl(path), request)} />}
        {call === 'python' && <Snippet language="Python" text={pythonSnippet(fullUrl(path), request)} />}
      </Tabs>
      <ErrorBox error={info.error ?? example.error} context="Could not read the version's input example" />
    </>
  );
}

function Snippet(props: { readonly language: string; readonly text: string }) {
  return (
    <>
      <p class="muted">
        Set <code>MLSERVE_TOKEN</code> to one of your tokens first (Tokens page); the body is the request box's, or the
        version's input example.
      </p>
      <CodeBlock label={`${props.language} snippet`}>{props.text}</CodeBlock>
      <CopyButton text={props.text} label={`Copy the ${props.language} snippet`} />
    </>
  );
}
