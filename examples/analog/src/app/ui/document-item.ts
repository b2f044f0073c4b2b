import { Component, input, signal, ViewEncapsulation } from '@angular/core';
import type { Document } from '../../../../shared/schemas';
import { problemOf, sendJson, type Problem } from '../../../../shared/send-json';
import { injectHydrated } from './hydrated';
import { ProblemNotice } from './problem';

/** One document: its title and body, a rename form and a delete button (PATCH / DELETE /api/documents). */
@Component({
  selector: 'app-document-item',
  imports: [ProblemNotice],
  encapsulation: ViewEncapsulation.None,
  template: `
    <li data-testid="doc" [attr.data-doc-id]="document().id">
      <strong data-testid="doc-title">{{ document().title }}</strong> <span class="muted">v{{ document().version }}</span>
      @if (document().body) {
        <p data-testid="doc-body">{{ document().body }}</p>
      }
      <form (submit)="rename($event)">
        <input name="title" [value]="document().title" aria-label="New title" data-testid="doc-rename" />
        <button type="submit" [attr.disabled]="hydrated() ? null : ''" data-testid="doc-save">Rename</button>
        <button type="button" [attr.disabled]="hydrated() ? null : ''" (click)="remove()" data-testid="doc-delete">Delete</button>
      </form>
      <app-problem [problem]="problem()" />
    </li>
  `,
})
export class DocumentItem {
  readonly organizationId = input.required<string>();
  readonly document = input.required<Document>();
  protected readonly hydrated = injectHydrated();
  protected readonly problem = signal<Problem | null>(null);

  protected rename(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const title = String(new FormData(event.target as HTMLFormElement).get('title'));
    const { id, body } = this.document();
    return this.run(() => sendJson('PATCH', '/api/documents', { organizationId: this.organizationId(), id, title, body }));
  }

  protected remove(): Promise<void> {
    return this.run(() => sendJson('DELETE', '/api/documents', { organizationId: this.organizationId(), id: this.document().id }));
  }

  private async run(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
      this.problem.set(null);
    } catch (error) {
      this.problem.set(problemOf(error));
    }
  }
}
