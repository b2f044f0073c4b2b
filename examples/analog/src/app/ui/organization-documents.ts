import { Component, DestroyRef, inject, Injector, input, signal, ViewEncapsulation, type OnInit } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import type { OrganizationPage } from '../../../../shared/server/account';
import { LiveDocumentsService, type LiveDocuments, type LiveStatus } from '../live/live-documents';
import { DocumentItem } from './document-item';
import { NewDocumentForm } from './new-document-form';

const STATUS_TEXT: Record<LiveStatus, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  revoked: 'your access to this organization was removed',
  'signed-out': 'signed out: sign in again',
};

/** An organization's documents as rendered, then live (LiveDocumentsService). */
@Component({
  selector: 'app-organization-documents',
  imports: [DocumentItem, NewDocumentForm],
  encapsulation: ViewEncapsulation.None,
  template: `
    <main>
      <h2 data-testid="org-title">{{ page().organization.name }}</h2>
      <p class="muted">
        Your role: {{ page().role }} · <span data-testid="doc-count">{{ count() }}</span> documents ·
        <span data-testid="live-status" [attr.data-state]="live.status()">{{ statusText[live.status()] }}</span>
      </p>
      <app-new-document-form [organizationId]="page().organization.id" [disabled]="live.status() === 'revoked' || live.status() === 'signed-out'" />
      <ul>
        @for (d of live.documents(); track d.id) {
          <app-document-item [organizationId]="page().organization.id" [document]="d" />
        }
      </ul>
      @if (live.documents().length === 0) {
        <p class="muted">No documents yet.</p>
      }
    </main>
  `,
})
export class OrganizationDocuments implements OnInit {
  readonly page = input.required<OrganizationPage>();
  protected readonly statusText = STATUS_TEXT;
  protected live!: LiveDocuments;
  /** The document count, fed from the service's RxJS side (`documents$`), as RxJS-minded code would. */
  protected readonly count = signal(0);
  private readonly service = inject(LiveDocumentsService);
  private readonly injector = inject(Injector);
  private readonly destroyRef = inject(DestroyRef);

  ngOnInit(): void {
    const { organization, documents, after } = this.page();
    this.live = this.service.follow(organization.id, documents, after, this.injector);
    this.count.set(documents.length);
    this.live.documents$.pipe(takeUntilDestroyed(this.destroyRef)).subscribe((list) => this.count.set(list.length));
  }
}
