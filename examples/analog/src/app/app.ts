import { Component } from '@angular/core';
import { RouterLink, RouterOutlet } from '@angular/router';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink],
  template: `
    <header>
      <h1><a routerLink="/">Documents</a></h1>
      <nav class="muted">Analog + Better Auth + SpacetimeDB</nav>
    </header>
    <router-outlet />
  `,
})
export class App {}
