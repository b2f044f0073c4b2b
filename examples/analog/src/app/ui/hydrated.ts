import { afterNextRender, signal, type Signal } from '@angular/core';

/**
 * False on the server and until the page is hydrated, then true: buttons stay disabled until their
 * handlers are attached, so no click is lost (call in an injection context).
 */
export function injectHydrated(): Signal<boolean> {
  const hydrated = signal(false);
  afterNextRender(() => hydrated.set(true));
  return hydrated.asReadonly();
}
