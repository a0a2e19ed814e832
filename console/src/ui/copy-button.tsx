import { useState } from 'preact/hooks';

/** Copies `text` to the clipboard and says so (politely, to screen readers too). */
export function CopyButton(props: { readonly text: string; readonly label: string }) {
  const [copied, setCopied] = useState<'yes' | 'no'>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
    setTimeout(() => setCopied(undefined), 2000);
  };
  return (
    <span class="copy">
      <button
        type="button"
        class="button button-secondary copy-button"
        onClick={() => void copy()}
        aria-label={props.label}
      >
        Copy
      </button>
      <span class="copy-status" aria-live="polite">
        {copied === 'yes' ? 'Copied' : copied === 'no' ? 'Copy failed: select the text instead' : ''}
      </span>
    </span>
  );
}
