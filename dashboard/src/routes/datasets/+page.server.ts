import { fail, redirect } from '@sveltejs/kit';
import { collector, failureMessage } from '#lib/server/collector.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const { datasets } = await collector(event).datasets();
  return { datasets };
};

export const actions: Actions = {
  create: async (event) => {
    const form = await event.request.formData();
    const name = String(form.get('name') ?? '').trim();
    const description = String(form.get('description') ?? '').trim();
    if (!name) return fail(400, { name, description, error: 'Give the dataset a name.' });
    let id: string;
    try {
      id = (await collector(event).createDataset({ name, description })).dataset.id;
    } catch (failure) {
      return fail(502, { name, description, error: failureMessage(failure) });
    }
    redirect(303, `/datasets/${id}`);
  },
};
