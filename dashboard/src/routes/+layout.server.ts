import { collector } from '#lib/server/collector.ts';
import type { ProjectInfo, ProjectSummary } from '#lib/api-types.ts';
import type { LayoutServerLoad } from './$types';

// The header shows the project and the switcher. A failure here must not take the whole layout down
// (SvelteKit would fall back to a bare error page); the page's own load reports it properly.
export const load: LayoutServerLoad = async (event) => {
  const api = collector(event);
  const [project, projects] = await Promise.all([
    api.project().then(
      (info) => info.project,
      () => null as ProjectInfo['project'] | null,
    ),
    // Listing projects needs an admin key; with a full-access key the switcher is simply not shown.
    api.projects().then(
      (list) => list.projects,
      () => [] as ProjectSummary[],
    ),
  ]);
  return { project, projects };
};
