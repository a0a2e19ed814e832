import type { ComponentChildren } from 'preact';

/** Preformatted text in a labelled box that scrolls, and so can be reached and scrolled by keyboard. */
export function CodeBlock(props: {
  readonly label: string;
  readonly children: ComponentChildren;
  readonly tall?: boolean;
}) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
    <section class="code-block" tabIndex={0} aria-label={props.label}>
      <pre>{props.children}</pre>
    </section>
  );
}
