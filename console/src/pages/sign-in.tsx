/** Sign in with a token: kept in this tab's sessionStorage only, checked against the server first. */
import { useEffect, useState } from 'preact/hooks';
import { whoAmI } from '../api/access';
import type { ApiError } from '../api/client';
import { session } from '../session';
import { Button } from '../ui/button';
import { TextField } from '../ui/field';
import './sign-in.css';

export function SignInPage(props: { readonly reason?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = 'Sign in · mlserve';
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await whoAmI(token.trim());
      session.signIn(token);
    } catch (e) {
      const err = e as ApiError;
      setError(err.errorCode ? `${err.errorCode}: ${err.message}` : String(err.message));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in" id="main">
      <form class="card sign-in-card" onSubmit={(e) => void submit(e)}>
        <h1>Sign in to mlserve</h1>
        {props.reason && (
          <p class="error-box" role="alert">
            You were signed out: {props.reason}
          </p>
        )}
        <TextField
          label="Token"
          type="password"
          value={token}
          onInput={setToken}
          required
          hint="Paste an mlserve token (mlsv_…). It is kept in this browser tab only and forgotten when the tab closes."
        />
        {error && (
          <p class="error-box" role="alert">
            {error}
          </p>
        )}
        <Button type="submit" variant="primary" busy={busy} disabled={token.trim() === ''}>
          Sign in
        </Button>
      </form>
    </main>
  );
}
