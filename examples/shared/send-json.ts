// The browser side of the apps' JSON routes and Better Auth's, for both example apps: a failed request
// becomes a `Problem` — the `{ error: { code, message } }` the routes answer (or Better Auth's
// `{ code, message }`), which the forms show with its code.
/** A failed request as the user sees it: the error's code (for tests and support) and its message. */
export interface Problem {
  code: string;
  message: string;
}

/** Sends JSON to one of the app's routes; resolves the JSON answer, or rejects with a `Problem`. */
export async function sendJson<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown): Promise<T> {
  const response = await fetch(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch(() => null);
  if (!response) throw { code: 'NETWORK', message: 'the server did not answer; try again' } satisfies Problem;
  const answer = (await response.json().catch(() => null)) as ({ error?: Partial<Problem> } & Partial<Problem>) | null;
  if (response.ok) return answer as T;
  const error = answer?.error ?? answer; // the app's routes nest it; Better Auth's do not
  throw { code: error?.code ?? `HTTP_${response.status}`, message: error?.message ?? response.statusText } satisfies Problem;
}

/** Any thrown value as a `Problem`. */
export function problemOf(error: unknown): Problem {
  const { code, message } = (error ?? {}) as Partial<Problem>;
  return { code: code ?? 'ERROR', message: message ?? String(error) };
}

/**
 * Clears a form after its submission succeeded — unless the user has typed something new meanwhile: the
 * new row can arrive through the live stream before the response does, and the next title typed in that
 * moment must not be wiped (it then stays, ready to send).
 */
export function clearSubmitted(form: HTMLFormElement, sent: FormData): void {
  const now = new FormData(form);
  for (const [name, value] of sent) if (now.get(name) !== value) return;
  form.reset();
}
