import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';
import './tabs.css';

export interface TabItem {
  readonly id: string;
  readonly label: string;
  /** The URL of the tab's view: tabs are links, so every tab can be linked and reloaded. */
  readonly href: string;
}

/**
 * ARIA tabs whose tabs are links: the selected one is `aria-selected`, arrow keys move between
 * them (Home/End to the ends), and the panel is labelled by its tab.
 */
export function Tabs(props: {
  readonly label: string;
  readonly tabs: readonly TabItem[];
  readonly selected: string;
  readonly children: ComponentChildren;
  readonly idPrefix: string;
}) {
  const list = useRef<HTMLDivElement>(null);
  const onKeyDown = (event: KeyboardEvent) => {
    const tabs = [...(list.current?.querySelectorAll<HTMLAnchorElement>('[role="tab"]') ?? [])];
    const at = tabs.indexOf(document.activeElement as HTMLAnchorElement);
    if (at < 0) return;
    const next =
      event.key === 'ArrowRight'
        ? (at + 1) % tabs.length
        : event.key === 'ArrowLeft'
          ? (at - 1 + tabs.length) % tabs.length
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? tabs.length - 1
              : undefined;
    if (next === undefined) return;
    event.preventDefault();
    tabs[next]?.focus();
    tabs[next]?.click();
  };
  const tabId = (id: string) => `${props.idPrefix}-tab-${id}`;
  return (
    <div class="tabs">
      <div role="tablist" aria-label={props.label} class="tab-list" ref={list} onKeyDown={onKeyDown}>
        {props.tabs.map((tab) => (
          <a
            key={tab.id}
            id={tabId(tab.id)}
            role="tab"
            href={tab.href}
            aria-selected={tab.id === props.selected ? 'true' : 'false'}
            aria-controls={`${props.idPrefix}-panel`}
            tabIndex={tab.id === props.selected ? 0 : -1}
            class="tab"
          >
            {tab.label}
          </a>
        ))}
      </div>
      <div role="tabpanel" id={`${props.idPrefix}-panel`} aria-labelledby={tabId(props.selected)} class="tab-panel">
        {props.children}
      </div>
    </div>
  );
}
