import { Component, inject, input, signal, ViewEncapsulation } from '@angular/core';
import { Router } from '@angular/router';
import { problemOf, sendJson, type Problem } from '../../../../shared/send-json';
import { injectHydrated } from './hydrated';

/** The sign-up / sign-in form: posts to Better Auth (which sets the session cookie), then opens the picker. */
@Component({
  selector: 'app-auth-form',
  encapsulation: ViewEncapsulation.None,
  template: `
    <form (submit)="submit($event)">
      @if (mode() === 'sign-up') {
        <input name="name" placeholder="Name" required data-testid="auth-name" />
      }
      <input name="email" type="email" placeholder="E-mail" required data-testid="auth-email" />
      <input name="password" type="password" placeholder="Password (8+ characters)" minlength="8" required data-testid="auth-password" />
      <button type="submit" [attr.disabled]="(busy() || !hydrated()) ? '' : null" data-testid="auth-submit">{{ mode() === 'sign-up' ? 'Sign up' : 'Sign in' }}</button>
      @if (problem(); as p) {
        <p class="problem" data-testid="auth-error" [attr.data-code]="p.code">{{ p.message }}</p>
      }
    </form>
  `,
})
export class AuthForm {
  readonly mode = input.required<'sign-up' | 'sign-in'>();
  protected readonly hydrated = injectHydrated();
  protected readonly busy = signal(false);
  protected readonly problem = signal<Problem | null>(null);
  private readonly router = inject(Router);

  protected async submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(event.target as HTMLFormElement));
    this.busy.set(true);
    try {
      await sendJson('POST', `/api/auth/${this.mode() === 'sign-up' ? 'sign-up/email' : 'sign-in/email'}`, fields);
      await this.router.navigateByUrl('/');
    } catch (error) {
      this.problem.set(problemOf(error));
    } finally {
      this.busy.set(false);
    }
  }
}
