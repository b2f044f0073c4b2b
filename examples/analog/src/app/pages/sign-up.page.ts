import { Component } from '@angular/core';
import { RouterLink } from '@angular/router';
import { AuthForm } from '../ui/auth-form';

@Component({
  imports: [AuthForm, RouterLink],
  template: `
    <main>
      <h2>Create an account</h2>
      <app-auth-form mode="sign-up" />
      <p>Already have one? <a routerLink="/sign-in">Sign in</a></p>
    </main>
  `,
})
export default class SignUpPage {}
