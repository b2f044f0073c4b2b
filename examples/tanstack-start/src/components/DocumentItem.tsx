import { useState, type FormEvent } from 'react';
import { useHydrated } from '../client/use-hydrated';
import { deleteDocumentFn, updateDocumentFn } from '../functions/documents';
import type { Document } from '../../../shared/schemas';
import { Problem, problemOf, type ProblemInfo } from './Problem';

/** One document: its title and body, a rename form and a delete button. */
export function DocumentItem({ organizationId, document }: { organizationId: string; document: Document }) {
  const [problem, setProblem] = useState<ProblemInfo | null>(null);
  const hydrated = useHydrated();
  const run = async (action: () => Promise<unknown>) => {
    try {
      await action();
      setProblem(null);
    } catch (error) {
      setProblem(problemOf(error));
    }
  };
  const rename = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const title = String(new FormData(event.currentTarget).get('title'));
    void run(() => updateDocumentFn({ data: { organizationId, id: document.id, title, body: document.body } }));
  };
  return (
    <li data-testid="doc" data-doc-id={document.id}>
      <strong data-testid="doc-title">{document.title}</strong> <span className="muted">v{document.version}</span>
      {document.body && <p data-testid="doc-body">{document.body}</p>}
      <form onSubmit={rename}>
        <input name="title" defaultValue={document.title} key={document.title} aria-label="New title" data-testid="doc-rename" />
        <button type="submit" disabled={!hydrated} data-testid="doc-save">
          Rename
        </button>
        <button type="button" disabled={!hydrated} onClick={() => run(() => deleteDocumentFn({ data: { organizationId, id: document.id } }))} data-testid="doc-delete">
          Delete
        </button>
      </form>
      <Problem problem={problem} />
    </li>
  );
}
