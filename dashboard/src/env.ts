import { defineEnvVars } from '@sveltejs/kit/env';

// Read when the server starts, so one build serves any collector.
export const variables = defineEnvVars({
  PARALLAX_COLLECTOR_URL: {
    description: 'Base URL of the Parallax collector JSON API.',
    schema: (value) => {
      const url = value && value.trim() !== '' ? value.trim() : 'http://127.0.0.1:4318';
      try {
        new URL(url);
      } catch {
        throw new Error(`PARALLAX_COLLECTOR_URL is not a URL: "${url}". Use e.g. http://127.0.0.1:4318`);
      }
      return url.replace(/\/+$/, '');
    },
  },
  PARALLAX_API_KEY: {
    description: 'Project API key sent to the collector as a Bearer token.',
    schema: (value) => (value && value.trim() !== '' ? value.trim() : undefined),
  },
});
