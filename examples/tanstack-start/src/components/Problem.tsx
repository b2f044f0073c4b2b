/** A failed write as the user sees it: the error's code (for tests and support) and its message. */
export interface ProblemInfo {
  code: string;
  message: string;
}

export const problemOf = (error: unknown): ProblemInfo => {
  const { code, message } = error as { code?: string; message?: string };
  return { code: code ?? 'ERROR', message: message ?? String(error) };
};

export function Problem({ problem }: { problem: ProblemInfo | null }) {
  if (!problem) return null;
  return (
    <p className="problem" role="alert" data-testid="form-error" data-code={problem.code}>
      {problem.message}
    </p>
  );
}
