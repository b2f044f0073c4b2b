// Better Auth's endpoints as Better Auth defines them (/api/auth/sign-up/email, /api/auth/organization/*,
// /api/auth/api-key/create, …), so any Better Auth client works against the app.
import { createFileRoute } from '@tanstack/react-router';
import { getAuth } from '../../../../../shared/server/auth';

const handle = async ({ request }: { request: Request }) => (await getAuth()).handler(request);

export const Route = createFileRoute('/api/auth/$')({
  server: { handlers: { GET: handle, POST: handle } },
});
