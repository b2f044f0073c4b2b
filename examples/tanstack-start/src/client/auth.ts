// The browser side of sign-up, sign-in and sign-out: Better Auth's own HTTP endpoints.

export interface AuthProblem {
  code: string;
  message: string;
}

/** POSTs JSON to a Better Auth endpoint; resolves null on success, else Better Auth's `{ code, message }`. */
export async function authPost(path: string, body: Record<string, string>): Promise<AuthProblem | null> {
  const response = await fetch(`/api/auth/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).catch(() => null);
  if (!response) return { code: 'NETWORK', message: 'the server did not answer; try again' };
  if (response.ok) return null;
  const problem = (await response.json().catch(() => null)) as Partial<AuthProblem> | null;
  return { code: problem?.code ?? `HTTP_${response.status}`, message: problem?.message ?? response.statusText };
}
