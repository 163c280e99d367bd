import { collector } from '#lib/server/collector.ts';
import type { ProjectInfo } from '#lib/api-types.ts';
import type { LayoutServerLoad } from './$types';

// The header only shows the project's name. A failure here must not take the whole layout down
// (SvelteKit would fall back to a bare error page); the page's own load reports it properly.
export const load: LayoutServerLoad = async ({ fetch }) => {
  let project: ProjectInfo['project'] | null = null;
  try {
    project = (await collector(fetch).project()).project;
  } catch {
    project = null;
  }
  return { project };
};
