import { Component, input, ViewEncapsulation } from '@angular/core';
import type { Problem } from '../../../../shared/send-json';

/** A failed write as the user sees it: its code (`data-code`, for tests and support) and its message. */
@Component({
  selector: 'app-problem',
  encapsulation: ViewEncapsulation.None,
  template: `
    @if (problem(); as p) {
      <p class="problem" role="alert" data-testid="form-error" [attr.data-code]="p.code">{{ p.message }}</p>
    }
  `,
})
export class ProblemNotice {
  readonly problem = input<Problem | null>(null);
}
