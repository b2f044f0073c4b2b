// Better Auth's endpoints as Better Auth defines them (/api/auth/sign-up/email, /api/auth/organization/*,
// /api/auth/api-key/create, …), so any Better Auth client works against the app.
import { defineEventHandler, toWebRequest } from 'h3';
import { getAuth } from '../../../../../../shared/server/auth';

export default defineEventHandler(async (event) => (await getAuth()).handler(toWebRequest(event)));
