import type { Collector } from '#lib/server/collector.ts';

/**
 * The dataset a promote form names: an existing one (`datasetId`), or a new one made now
 * (`datasetId=new` and `newDatasetName`).
 */
export async function datasetTarget(api: Collector, form: FormData): Promise<{ id: string; name: string } | { error: string }> {
  const chosen = String(form.get('datasetId') ?? '');
  if (chosen && chosen !== 'new') {
    return { id: chosen, name: String(form.get('datasetName') ?? '') || chosen };
  }
  const name = String(form.get('newDatasetName') ?? '').trim();
  if (!name) return { error: 'Pick a dataset, or give the new dataset a name.' };
  const { dataset } = await api.createDataset({ name });
  return { id: dataset.id, name: dataset.name };
}
