import type { Handle } from '@sveltejs/kit/hooks';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/**
 * Cross-site form posts are refused here instead of by SvelteKit's built-in check (turned off in
 * vite.config.ts). adapter-node 6 no longer reads ORIGIN at run time and, behind no proxy, takes
 * every request to be https — so the built-in check refused every form on a plain-http dashboard
 * (`pnpm start` on http://localhost:3000). Same rule otherwise: a form post must come from a page
 * of this host.
 */
export const handle: Handle = async ({ event, resolve }) => {
  const { request } = event;
  if (MUTATING.has(request.method) && isFormPost(request) && !fromThisHost(request)) {
    const message = `Cross-site ${request.method} form submissions are forbidden`;
    return request.headers.get('accept') === 'application/json'
      ? Response.json({ message }, { status: 403 })
      : new Response(message, { status: 403, headers: { 'content-type': 'text/plain' } });
  }
  return resolve(event);
};

function isFormPost(request: Request): boolean {
  const type = request.headers.get('content-type')?.split(';', 1)[0]?.trim().toLowerCase();
  return !type || FORM_TYPES.includes(type);
}

function fromThisHost(request: Request): boolean {
  const origin = request.headers.get('origin');
  const host = request.headers.get('host');
  if (!origin || !host) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host;
  } catch {
    return false;
  }
}
