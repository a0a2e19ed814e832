import { ApiError } from '../api/client';

/** A server error as the server said it: its error_code and message, never swallowed. */
export function ErrorBox(props: { readonly error?: Error; readonly context?: string }) {
  if (!props.error) return null;
  const code = props.error instanceof ApiError ? props.error.errorCode : props.error.name;
  return (
    <div class="error-box" role="alert">
      {props.context && <strong>{props.context}: </strong>}
      <code>{code}</code> {props.error.message}
    </div>
  );
}
