import { Component, ViewEncapsulation } from '@angular/core';
import { RouterLink, RouterOutlet } from '@angular/router';
import { STYLE } from '../../../shared/styles';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink],
  // The page-wide style sheet (body, forms, lists), shared with the TanStack Start app.
  encapsulation: ViewEncapsulation.None,
  styles: STYLE,
  template: `
    <header>
      <h1><a routerLink="/">Documents</a></h1>
      <span class="muted">Analog · Better Auth · SpacetimeDB</span>
    </header>
    <router-outlet />
  `,
})
export class App {}
