import { useState, type FormEvent } from 'react';
import { useHydrated } from '../client/use-hydrated';
import { clearSubmitted } from '../../../shared/send-json';
import { createDocumentFn } from '../functions/documents';
import { Problem, problemOf, type ProblemInfo } from './Problem';

/** Creates a document; the new row arrives through the live stream like everyone else's. */
export function NewDocumentForm({ organizationId, disabled }: { organizationId: string; disabled: boolean }) {
  const [problem, setProblem] = useState<ProblemInfo | null>(null);
  const hydrated = useHydrated();
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const fields = new FormData(form);
    try {
      await createDocumentFn({ data: { organizationId, title: String(fields.get('title')), body: String(fields.get('body')) } });
      clearSubmitted(form, fields);
      setProblem(null);
    } catch (error) {
      setProblem(problemOf(error));
    }
  };
  return (
    <form onSubmit={submit}>
      <input name="title" placeholder="Title" data-testid="new-title" />
      <textarea name="body" placeholder="Body" rows={1} data-testid="new-body" />
      <button type="submit" disabled={disabled || !hydrated} data-testid="new-submit">
        Add
      </button>
      <Problem problem={problem} />
    </form>
  );
}
