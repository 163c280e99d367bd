import { defineConfig } from 'vite';
import { sveltekit } from '@sveltejs/kit/vite';
import adapter from '@sveltejs/adapter-node';

export default defineConfig({
  // '*' turns off SvelteKit's origin check, which compares against an https origin adapter-node
  // assumes for plain-http servers; src/hooks.server.ts checks the origin against the Host instead.
  plugins: [sveltekit({ adapter: adapter(), csrf: { trustedOrigins: ['*'] } })],
});
