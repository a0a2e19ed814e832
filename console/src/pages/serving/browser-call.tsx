/**
 * Calling a version from the browser: the request box, Load Example, Send Request (with the
 * signed-in token, through the console's one client), and the answer with its status and time.
 */
import { useState } from 'preact/hooks';
import { type ScoringAnswer, score } from '../../api/client';
import type { EndpointVersionJson } from '../../api/serving';
import { Button } from '../../ui/button';
import { TextArea } from '../../ui/field';
import { formatMs } from '../format';
import { CodeBlock } from './code-block';
import { prettyJson } from './json-text';

export function BrowserCall(props: {
  readonly version: EndpointVersionJson;
  readonly path: string;
  readonly body: string;
  readonly onBody: (body: string) => void;
  readonly example?: string;
  readonly exampleReason?: string;
}) {
  const [answer, setAnswer] = useState<ScoringAnswer>();
  const [sending, setSending] = useState(false);
  const ready = props.version.state === 'VERSION_STATE_READY';
  const send = async () => {
    setSending(true);
    try {
      setAnswer(await score(props.path, props.body));
    } finally {
      setSending(false);
    }
  };
  const ok = answer !== undefined && answer.status >= 200 && answer.status < 300;
  return (
    <>
      <TextArea
        label="Request"
        value={props.body}
        onInput={props.onBody}
        rows={10}
        hint="A JSON body, in any format the model host accepts."
      />
      <div class="call-actions">
        <Button onClick={() => props.example && props.onBody(props.example)} disabledReason={props.exampleReason}>
          Load Example
        </Button>
        <Button
          variant="primary"
          onClick={() => void send()}
          busy={sending}
          disabledReason={
            !ready
              ? `Version ${props.version.endpoint_version_name} is not ready${props.version.message ? `: ${props.version.message}` : ''}`
              : props.body.trim() === ''
                ? 'Write a request or load the example first.'
                : undefined
          }
        >
          Send Request
        </Button>
      </div>
      <div aria-live="polite">
        {answer && (
          <section class={ok ? 'response' : 'response response-error'} aria-labelledby="response-title">
            <h4 id="response-title">Response</h4>
            <p class="response-meta">
              {answer.status === 0 ? 'No answer' : `Status ${answer.status}`}
              {ok ? '' : ' (error)'} · {formatMs(answer.ms)}
            </p>
            <CodeBlock label="Response body">
              {answer.json === undefined ? answer.text : prettyJson(answer.json)}
            </CodeBlock>
          </section>
        )}
      </div>
    </>
  );
}
