import { problemOf, type Problem as ProblemInfo } from '../../../shared/send-json';

/** A failed write as the user sees it (`problemOf(error)`): its code (for tests and support) and message. */
export { problemOf, type ProblemInfo };

export function Problem({ problem }: { problem: ProblemInfo | null }) {
  if (!problem) return null;
  return (
    <p className="problem" role="alert" data-testid="form-error" data-code={problem.code}>
      {problem.message}
    </p>
  );
}
