// The organization picker: the signed-in user's organizations (each a tenant in SpacetimeDB), and a form
// to create one.
import { createFileRoute, Link, redirect, useNavigate, useRouter } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { authPost } from '../client/auth';
import { useHydrated } from '../client/use-hydrated';
import { createOrganizationFn, loadAccount } from '../functions/account';

export const Route = createFileRoute('/')({
  loader: async () => {
    try {
      return await loadAccount();
    } catch (error) {
      if ((error as { code?: string }).code === 'UNAUTHENTICATED') throw redirect({ to: '/sign-in' });
      throw error;
    }
  },
  component: Organizations,
});

function Organizations() {
  const { user, organizations } = Route.useLoaderData();
  const navigate = useNavigate();
  const router = useRouter();
  const [problem, setProblem] = useState<string | null>(null);
  const hydrated = useHydrated();

  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get('name') ?? '');
    try {
      const { id } = await createOrganizationFn({ data: { name } });
      await navigate({ to: '/t/$orgId', params: { orgId: id } });
    } catch (error) {
      setProblem((error as Error).message);
    }
  };
  const signOut = async () => {
    await authPost('sign-out', {});
    await router.invalidate();
  };

  return (
    <main>
      <p>
        Signed in as <strong data-testid="user-name">{user.name}</strong> ({user.email}){' '}
        <button type="button" disabled={!hydrated} onClick={signOut} data-testid="sign-out">
          Sign out
        </button>
      </p>
      <h2>Your organizations</h2>
      {organizations.length === 0 && <p className="muted">None yet: create one below.</p>}
      <ul>
        {organizations.map((o) => (
          <li key={o.id}>
            <Link to="/t/$orgId" params={{ orgId: o.id }} data-testid="org-link" data-org-id={o.id}>
              {o.name}
            </Link>
          </li>
        ))}
      </ul>
      <form onSubmit={create}>
        <input name="name" placeholder="New organization" required maxLength={100} data-testid="org-name" />
        <button type="submit" disabled={!hydrated} data-testid="org-create">
          Create
        </button>
      </form>
      {problem && <p className="problem">{problem}</p>}
    </main>
  );
}
