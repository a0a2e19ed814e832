/**
 * The console's shell: sign-in until there is a token, then the header (Models, Tokens, who is
 * signed in, Sign out), the page the URL names, and the toasts.
 */
import { useEffect, useState } from 'preact/hooks';
import { whoAmI } from './api/access';
import { useResource } from './hooks/use-resource';
import { ModelPage } from './pages/model';
import { ModelsPage } from './pages/models';
import { SignInPage } from './pages/sign-in';
import { TokensPage } from './pages/tokens/tokens-page';
import { href, useRoute } from './routes';
import { session } from './session';
import { Button } from './ui/button';
import { Toasts } from './ui/toasts';

function useSession(): string | undefined {
  const [token, setToken] = useState(session.token());
  useEffect(() => session.subscribe(() => setToken(session.token())), []);
  return token;
}

export function App() {
  const token = useSession();
  if (!token) return <SignInPage reason={session.expiredReason()} />;
  return <SignedIn key={token} />;
}

function SignedIn() {
  const route = useRoute();
  const me = useResource(whoAmI, []);
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="app-header">
        <span class="app-brand">mlserve</span>
        <nav class="app-nav" aria-label="Main">
          <a href={href.models()} aria-current={route.page === 'models' || route.page === 'model' ? 'page' : undefined}>
            Models
          </a>
          <a href={href.tokens()} aria-current={route.page === 'tokens' ? 'page' : undefined}>
            Tokens
          </a>
        </nav>
        <div class="app-user">
          {me.data && (
            <span>
              Signed in as <strong>{me.data.principal}</strong>
              {me.data.admin ? ' (admin)' : ''}
            </span>
          )}
          <Button onClick={() => session.signOut()}>Sign out</Button>
        </div>
      </header>
      <main id="main" class="app-main">
        {route.page === 'models' && <ModelsPage filter={route.filter} pageToken={route.page_token} />}
        {route.page === 'model' && <ModelPage route={route} />}
        {route.page === 'tokens' && <TokensPage identity={me.data} principal={route.principal} />}
        {route.page === 'not-found' && <NotFound path={route.path} />}
      </main>
      <Toasts />
    </>
  );
}

function NotFound(props: { readonly path: string }) {
  useEffect(() => {
    document.title = 'Not found · mlserve';
  }, []);
  return (
    <>
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{props.path}</code>. <a href={href.models()}>Go to the models.</a>
      </p>
    </>
  );
}
