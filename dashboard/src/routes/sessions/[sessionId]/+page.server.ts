import { collector } from '#lib/server/collector.ts';
import { readPaging } from '#lib/trace-list.ts';
import type { PageServerLoad } from './$types';

/** Traces per page of a session's timeline; the session's totals always cover all of them. */
const SESSION_PAGE_SIZE = 20;

export const load: PageServerLoad = async (event) => {
  const paging = readPaging(event.url.searchParams);
  const session = await collector(event).session(event.params.sessionId, { cursor: paging.cursor, limit: SESSION_PAGE_SIZE });
  return { ...session, paging, pageSize: SESSION_PAGE_SIZE };
};
