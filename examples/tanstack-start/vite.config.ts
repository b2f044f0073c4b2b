import { tanstackStart } from '@tanstack/react-start/plugin/vite';
import viteReact from '@vitejs/plugin-react';
import { nitro } from 'nitro/vite';
import { spacetimeGateway } from 'spacetime-gateway/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  // spacetimeGateway(): the native addon stays a file — Nitro copies the package into .output instead of
  // bundling it, and dev pre-bundling leaves it alone (docs/frameworks.md).
  plugins: [tanstackStart(), nitro(), spacetimeGateway(), viteReact()],
});
