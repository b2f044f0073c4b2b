import { Component, computed, input, ViewEncapsulation } from '@angular/core';
import { RouterLink } from '@angular/router';
import type { Problem } from '../../../../shared/send-json';

const TITLES: Record<string, string> = {
  UNAUTHENTICATED: 'Please sign in',
  NOT_A_MEMBER: 'You are not a member of this organization',
  INVALID_INPUT: 'That address is not valid',
};

/** A page that could not be shown: why (its code and message), and the way back. */
@Component({
  selector: 'app-error-notice',
  imports: [RouterLink],
  encapsulation: ViewEncapsulation.None,
  template: `
    <section data-testid="page-error" [attr.data-code]="error().code">
      <h2>{{ title() }}</h2>
      <p class="problem">{{ error().message }}</p>
      <p><a routerLink="/">Back to your organizations</a></p>
    </section>
  `,
})
export class ErrorNotice {
  readonly error = input.required<Problem>();
  protected readonly title = computed(() => TITLES[this.error().code] ?? 'Something went wrong');
}
