// The browser side of sign-up, sign-in and sign-out: Better Auth's own HTTP endpoints.
import { problemOf, sendJson, type Problem } from '../../../shared/send-json';

export type AuthProblem = Problem;

/** POSTs JSON to a Better Auth endpoint; resolves null on success, else Better Auth's `{ code, message }`. */
export async function authPost(path: string, body: Record<string, string>): Promise<AuthProblem | null> {
  try {
    await sendJson('POST', `/api/auth/${path}`, body);
    return null;
  } catch (error) {
    return problemOf(error);
  }
}
