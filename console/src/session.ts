/**
 * The signed-in token: kept in sessionStorage only (never a URL, cookie or localStorage), so it
 * is gone when the tab closes. Components subscribe to changes (sign-in, sign-out, expiry).
 */
const KEY = 'mlserve.token';

type Listener = () => void;
const listeners = new Set<Listener>();
let expiredReason: string | undefined;

function notify(): void {
  for (const listener of listeners) listener();
}

export const session = {
  token(): string | undefined {
    return sessionStorage.getItem(KEY) ?? undefined;
  },
  signIn(token: string): void {
    expiredReason = undefined;
    sessionStorage.setItem(KEY, token.trim());
    notify();
  },
  signOut(): void {
    sessionStorage.removeItem(KEY);
    notify();
  },
  /** The server refused the token (401): back to sign-in, saying why. */
  expire(reason: string): void {
    if (!session.token()) return;
    expiredReason = reason;
    sessionStorage.removeItem(KEY);
    notify();
  },
  /** Why the last session ended, when the server ended it. */
  expiredReason(): string | undefined {
    return expiredReason;
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
