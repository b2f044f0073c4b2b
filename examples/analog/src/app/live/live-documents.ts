// The documents of an organization page, kept live: an Angular service around `followDocuments`
// (examples/shared/follow.ts — EventSource, `?after=` then `Last-Event-ID`, reconnects, revocation) and
// the pure reducer of examples/shared/live.ts. Each page gets a `LiveDocuments` session exposing the
// documents as a signal, and as an RxJS Observable for code that prefers streams.
//
// On the server nothing is opened (no EventSource in Node, and a render must finish): the session shows
// the rendered rows with status `connecting`; the browser's copy of the page, hydrated from the same rows,
// starts the stream.
import { isPlatformBrowser } from '@angular/common';
import { computed, DestroyRef, inject, Injectable, Injector, PLATFORM_ID, signal, type Signal } from '@angular/core';
import { toObservable } from '@angular/core/rxjs-interop';
import type { Observable } from 'rxjs';
import { followDocuments, type LiveStatus } from '../../../../shared/follow';
import { apply, initialState, sorted } from '../../../../shared/live';
import type { Document } from '../../../../shared/schemas';

export type { LiveStatus };

/** One page's live documents. `stop()` ends the stream (also when the injector that made it is destroyed). */
export interface LiveDocuments {
  /** The documents in id order: the rendered ones, then as the stream changes them. */
  readonly documents: Signal<Document[]>;
  readonly status: Signal<LiveStatus>;
  /** `documents` as an Observable (it emits the current list first). */
  readonly documents$: Observable<Document[]>;
  stop(): void;
}

@Injectable({ providedIn: 'root' })
export class LiveDocumentsService {
  private readonly browser = isPlatformBrowser(inject(PLATFORM_ID));

  /**
   * Follows `organizationId`'s documents from the rendered `documents`, read at stream position `after`
   * (the page load's `after`): the stream continues exactly after them — no second snapshot, no event
   * lost between the render and the connect. Call it in an injection context (a component's constructor
   * or field) or pass the `injector` whose destruction stops the stream.
   */
  follow(organizationId: string, documents: Document[], after: string, injector: Injector = inject(Injector)): LiveDocuments {
    const state = signal(initialState(documents));
    const status = signal<LiveStatus>('connecting');
    const list = computed(() => sorted(state()));
    let stop = () => {};
    if (this.browser) {
      stop = followDocuments(organizationId, after, {
        envelope: (envelope) => state.update((current) => apply(current, envelope)),
        status: (next) => status.set(next),
      });
    }
    const unregister = injector.get(DestroyRef).onDestroy(() => stop());
    return {
      documents: list,
      status: status.asReadonly(),
      documents$: toObservable(list, { injector }),
      stop: () => {
        unregister();
        stop();
      },
    };
  }
}
