import { error } from '@sveltejs/kit';
import { collector } from '#lib/server/collector.ts';
import type { RequestHandler } from './$types';

/** The collector's export file, passed through so the download never leaves the dashboard's origin. */
export const GET: RequestHandler = async (event) => {
  const format = event.url.searchParams.get('format') ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'csv') error(400, `Unknown export format "${format}": use jsonl or csv.`);
  const versionText = event.url.searchParams.get('version');
  const version = versionText ? Number(versionText) : null;
  if (version !== null && !Number.isInteger(version)) error(400, `The version "${versionText}" is not a whole number.`);

  const file = await collector(event).exportItems(event.params.datasetId, format, version);
  return new Response(file.body, {
    headers: {
      'content-type': file.headers.get('content-type') ?? 'application/octet-stream',
      'content-disposition': file.headers.get('content-disposition') ?? `attachment; filename="dataset.${format}"`,
    },
  });
};
