import { createFileRoute, Link } from '@tanstack/react-router';
import { AuthForm } from '../components/AuthForm';

export const Route = createFileRoute('/sign-in')({
  component: () => (
    <main>
      <h2>Sign in</h2>
      <AuthForm mode="sign-in" />
      <p>
        New here? <Link to="/sign-up">Create an account</Link>
      </p>
    </main>
  ),
});
