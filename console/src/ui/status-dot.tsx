import './status-dot.css';

export type Tone = 'ready' | 'pending' | 'failed' | 'stopped' | 'unknown';

/** The tone of a serving or registration state, from the words the APIs use. */
export function toneOf(state: string | undefined): Tone {
  const s = (state ?? '').toUpperCase();
  if (/READY/.test(s)) return 'ready';
  if (/PENDING|LOADING|REGISTRATION$|UPDATING/.test(s) && !/FAILED/.test(s)) return 'pending';
  if (/FAILED/.test(s)) return 'failed';
  if (/STOPPED|UNLOADED|NOT_ENABLED|DISABLED/.test(s)) return 'stopped';
  return 'unknown';
}

const WORDS: Record<Tone, string> = {
  ready: 'Ready',
  pending: 'Pending',
  failed: 'Failed',
  stopped: 'Stopped',
  unknown: 'Unknown',
};

/** A coloured dot and the state in words (the colour is never the only signal). */
export function StatusDot(props: { readonly state?: string; readonly label?: string }) {
  const tone = toneOf(props.state);
  return (
    <span class={`status status-${tone}`}>
      <span class="status-dot" aria-hidden="true" />
      {props.label ?? WORDS[tone]}
    </span>
  );
}
