import { createFileRoute, Link } from '@tanstack/react-router';
import { AuthForm } from '../components/AuthForm';

export const Route = createFileRoute('/sign-up')({
  component: () => (
    <main>
      <h2>Create an account</h2>
      <AuthForm mode="sign-up" />
      <p>
        Already have one? <Link to="/sign-in">Sign in</Link>
      </p>
    </main>
  ),
});
