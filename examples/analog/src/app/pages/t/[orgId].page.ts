// /t/<orgId>: the organization's documents. The server renders them from its load (`gateway.snapshot()`
// with the stream position they were read at); in the browser the LiveDocumentsService continues exactly
// after that position and keeps the list live. A failed load shows why, with the matching status.
import { Component, ViewEncapsulation } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { injectLoad } from '@analogjs/router';
import { ErrorNotice } from '../../ui/error-notice';
import { setPageStatus } from '../../ui/page-status';
import { OrganizationDocuments } from '../../ui/organization-documents';
import type { load } from './[orgId].server';

@Component({
  encapsulation: ViewEncapsulation.None,
  imports: [ErrorNotice, OrganizationDocuments],
  template: `
    @let outcome = page();
    @if (outcome.ok) {
      <!-- A new render position (navigation, reload) starts a new list and stream. -->
      @for (data of [outcome.data]; track data.after) {
        <app-organization-documents [page]="data" />
      }
    } @else {
      <app-error-notice [error]="outcome.error" />
    }
  `,
})
export default class OrganizationPage {
  protected readonly page = toSignal(injectLoad<typeof load>(), { requireSync: true });

  constructor() {
    const outcome = this.page();
    if (!outcome.ok) setPageStatus(outcome.error.status);
  }
}
