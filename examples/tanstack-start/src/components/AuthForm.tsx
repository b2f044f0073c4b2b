import { useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { authPost, type AuthProblem } from '../client/auth';
import { useHydrated } from '../client/use-hydrated';

/** The sign-up / sign-in form: posts to Better Auth, then opens the organization picker. */
export function AuthForm({ mode }: { mode: 'sign-up' | 'sign-in' }) {
  const navigate = useNavigate();
  const [problem, setProblem] = useState<AuthProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const hydrated = useHydrated();

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(event.currentTarget)) as Record<string, string>;
    setBusy(true);
    const failed = await authPost(mode === 'sign-up' ? 'sign-up/email' : 'sign-in/email', fields);
    setBusy(false);
    if (failed) return setProblem(failed);
    await navigate({ to: '/' });
  };

  return (
    <form onSubmit={submit}>
      {mode === 'sign-up' && <input name="name" placeholder="Name" required data-testid="auth-name" />}
      <input name="email" type="email" placeholder="E-mail" required data-testid="auth-email" />
      <input name="password" type="password" placeholder="Password (8+ characters)" minLength={8} required data-testid="auth-password" />
      <button type="submit" disabled={busy || !hydrated} data-testid="auth-submit">
        {mode === 'sign-up' ? 'Sign up' : 'Sign in'}
      </button>
      {problem && (
        <p className="problem" data-testid="auth-error" data-code={problem.code}>
          {problem.message}
        </p>
      )}
    </form>
  );
}
