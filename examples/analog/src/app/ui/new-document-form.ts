import { Component, input, signal, ViewEncapsulation } from '@angular/core';
import { clearSubmitted, problemOf, sendJson, type Problem } from '../../../../shared/send-json';
import { injectHydrated } from './hydrated';
import { ProblemNotice } from './problem';

/** Creates a document (POST /api/documents); the new row arrives through the live stream like everyone else's. */
@Component({
  selector: 'app-new-document-form',
  imports: [ProblemNotice],
  encapsulation: ViewEncapsulation.None,
  template: `
    <form (submit)="submit($event)">
      <input name="title" placeholder="Title" data-testid="new-title" />
      <textarea name="body" placeholder="Body" rows="1" data-testid="new-body"></textarea>
      <button type="submit" [attr.disabled]="(disabled() || !hydrated()) ? '' : null" data-testid="new-submit">Add</button>
      <app-problem [problem]="problem()" />
    </form>
  `,
})
export class NewDocumentForm {
  readonly organizationId = input.required<string>();
  readonly disabled = input(false);
  protected readonly hydrated = injectHydrated();
  protected readonly problem = signal<Problem | null>(null);

  protected async submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const fields = new FormData(form);
    try {
      await sendJson('POST', '/api/documents', { organizationId: this.organizationId(), title: String(fields.get('title')), body: String(fields.get('body')) });
      clearSubmitted(form, fields);
      this.problem.set(null);
    } catch (error) {
      this.problem.set(problemOf(error));
    }
  }
}
