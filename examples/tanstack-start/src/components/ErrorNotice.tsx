import { Link } from '@tanstack/react-router';

/** An error as the user sees it: its code and message (server functions send nothing else). */
export function ErrorNotice({ error }: { error: unknown }) {
  const { code, message } = error as { code?: string; message?: string };
  return (
    <section data-testid="page-error" data-code={code ?? 'ERROR'}>
      <h2>{title(code)}</h2>
      <p className="problem">{message ?? String(error)}</p>
      <p>
        <Link to="/">Back to your organizations</Link>
      </p>
    </section>
  );
}

function title(code: string | undefined): string {
  if (code === 'UNAUTHENTICATED') return 'Please sign in';
  if (code === 'NOT_A_MEMBER') return 'You are not a member of this organization';
  if (code === 'INVALID_INPUT') return 'That address is not valid';
  return 'Something went wrong';
}
