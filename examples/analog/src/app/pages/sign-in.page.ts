import { Component } from '@angular/core';
import { RouterLink } from '@angular/router';
import { AuthForm } from '../ui/auth-form';

@Component({
  imports: [AuthForm, RouterLink],
  template: `
    <main>
      <h2>Sign in</h2>
      <app-auth-form mode="sign-in" />
      <p>No account yet? <a routerLink="/sign-up">Sign up</a></p>
    </main>
  `,
})
export default class SignInPage {}
