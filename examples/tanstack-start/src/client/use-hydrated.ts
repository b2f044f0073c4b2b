import { useEffect, useState } from 'react';

/**
 * False during server rendering and until React has hydrated the page: buttons that need scripts stay
 * disabled until then, so an early click is never lost (or sent as a plain form submission).
 */
export function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}
