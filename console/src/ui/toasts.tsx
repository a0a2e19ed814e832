/** Short confirmations ("Token revoked"), announced politely; the only global UI state besides the session. */
import { useEffect, useState } from 'preact/hooks';

type Listener = (messages: readonly string[]) => void;
let messages: string[] = [];
const listeners = new Set<Listener>();

export function toast(message: string): void {
  messages = [...messages, message];
  for (const l of listeners) l(messages);
  setTimeout(() => {
    messages = messages.filter((m) => m !== message);
    for (const l of listeners) l(messages);
  }, 5000);
}

export function Toasts() {
  const [shown, setShown] = useState<readonly string[]>(messages);
  useEffect(() => {
    listeners.add(setShown);
    return () => {
      listeners.delete(setShown);
    };
  }, []);
  return (
    <div class="toasts" aria-live="polite" role="status">
      {shown.map((m) => (
        <div key={m} class="toast">
          {m}
        </div>
      ))}
    </div>
  );
}
