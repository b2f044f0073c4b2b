// The organization picker: the signed-in user's organizations (each a tenant in SpacetimeDB), and a form
// to create one. Without a session: to /sign-in (a 302 when rendered on the server).
import { Component, inject, signal, ViewEncapsulation } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { Router, RouterLink } from '@angular/router';
import { injectLoad } from '@analogjs/router';
import { problemOf, sendJson, type Problem } from '../../../../shared/send-json';
import { ErrorNotice } from '../ui/error-notice';
import { injectHydrated } from '../ui/hydrated';
import { setPageStatus } from '../ui/page-status';
import type { load } from './index.server';

@Component({
  encapsulation: ViewEncapsulation.None,
  imports: [RouterLink, ErrorNotice],
  template: `
    @let outcome = page();
    @if (outcome.ok) {
      <main>
        <p>
          Signed in as <strong data-testid="user-name">{{ outcome.data.user.name }}</strong> ({{ outcome.data.user.email }})
          <button type="button" [attr.disabled]="hydrated() ? null : ''" (click)="signOut()" data-testid="sign-out">Sign out</button>
        </p>
        <h2>Your organizations</h2>
        @if (outcome.data.organizations.length === 0) {
          <p class="muted">None yet: create one below.</p>
        }
        <ul>
          @for (o of outcome.data.organizations; track o.id) {
            <li><a [routerLink]="['/t', o.id]" data-testid="org-link" [attr.data-org-id]="o.id">{{ o.name }}</a></li>
          }
        </ul>
        <form (submit)="create($event)">
          <input name="name" placeholder="New organization" required maxlength="100" data-testid="org-name" />
          <button type="submit" [attr.disabled]="hydrated() ? null : ''" data-testid="org-create">Create</button>
        </form>
        @if (problem(); as p) {
          <p class="problem" [attr.data-code]="p.code">{{ p.message }}</p>
        }
      </main>
    } @else {
      <app-error-notice [error]="outcome.error" />
    }
  `,
})
export default class OrganizationsPage {
  protected readonly page = toSignal(injectLoad<typeof load>(), { requireSync: true });
  protected readonly hydrated = injectHydrated();
  protected readonly problem = signal<Problem | null>(null);
  private readonly router = inject(Router);

  constructor() {
    const outcome = this.page();
    if (!outcome.ok && outcome.error.code === 'UNAUTHENTICATED') {
      setPageStatus(302, '/sign-in');
      void this.router.navigateByUrl('/sign-in'); // in the browser (a client-side navigation here)
    } else if (!outcome.ok) {
      setPageStatus(outcome.error.status);
    }
  }

  protected async create(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const name = String(new FormData(event.target as HTMLFormElement).get('name') ?? '');
    try {
      const { id } = await sendJson<{ id: string }>('POST', '/api/organizations', { name });
      await this.router.navigate(['/t', id]);
    } catch (error) {
      this.problem.set(problemOf(error));
    }
  }

  protected async signOut(): Promise<void> {
    await sendJson('POST', '/api/auth/sign-out', {}).catch(() => {});
    await this.router.navigateByUrl('/sign-in');
  }
}
