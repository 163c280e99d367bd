import { fail, redirect } from '@sveltejs/kit';
import { PARALLAX_API_KEY } from '$app/env/private';
import { collector, failureMessage } from '#lib/server/collector.ts';
import { PROJECT_COOKIE, PROJECT_COOKIE_OPTIONS } from '#lib/server/project-cookie.ts';
import type { ApiKeySummary, PriceOverride } from '#lib/api-types.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const api = collector(event);
  const info = await api.project();
  const projectId = info.project.id;
  const [projects, keys, overrides] = await Promise.all([
    api.projects().then(
      (r) => r.projects,
      () => null,
    ),
    api.keys(projectId).then(
      (r) => ({ keys: r.keys, error: null }),
      (failure: { body?: { message?: string } }) => ({ keys: [] as ApiKeySummary[], error: failure.body?.message ?? 'The keys could not be listed.' }),
    ),
    api.priceOverrides().then(
      (r) => ({ overrides: r.overrides, error: null }),
      (failure: { body?: { message?: string } }) => ({ overrides: [] as PriceOverride[], error: failure.body?.message ?? 'The price overrides could not be listed.' }),
    ),
  ]);
  // The key list shows only prefixes; the one this dashboard itself runs on must not be revoked from here.
  const dashboardKeyId = keys.keys.find((k) => !k.revoked && PARALLAX_API_KEY?.startsWith(k.prefix))?.id ?? null;
  return { info, projects, keys, overrides, dashboardKeyId };
};

const text = (form: FormData, key: string) => String(form.get(key) ?? '').trim();

/** A price field: empty is "not set"; anything else must be a non-negative number. */
function rate(form: FormData, key: string, label: string): number | null | string {
  const value = text(form, key);
  if (value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : `${label} must be a number of dollars, 0 or more (not "${value}").`;
}

export const actions: Actions = {
  /** The header's project switcher posts here from any page, and goes back there. */
  switch: async (event) => {
    const form = await event.request.formData();
    const projectId = text(form, 'projectId');
    const back = text(form, 'back');
    if (projectId) event.cookies.set(PROJECT_COOKIE, projectId, PROJECT_COOKIE_OPTIONS);
    else event.cookies.delete(PROJECT_COOKIE, { path: '/' });
    // Only paths on this site: never an open redirect.
    redirect(303, back.startsWith('/') && !back.startsWith('//') ? back : '/');
  },

  createProject: async (event) => {
    const form = await event.request.formData();
    const name = text(form, 'name');
    if (!name) return fail(400, { createProject: { error: 'Give the project a name.' } });
    try {
      const created = await collector(event).createProject(name);
      // Work in the new project straight away: that is why it was made.
      event.cookies.set(PROJECT_COOKIE, created.project.id, PROJECT_COOKIE_OPTIONS);
      return { createProject: { project: created.project, secret: created.secret, key: created.key } };
    } catch (failure) {
      return fail(502, { createProject: { error: failureMessage(failure) } });
    }
  },

  createKey: async (event) => {
    const form = await event.request.formData();
    const name = text(form, 'name');
    const scope = text(form, 'scope');
    if (!name) return fail(400, { createKey: { error: 'Give the key a name, e.g. the app or CI job that will use it.' } });
    if (scope !== 'ingest' && scope !== 'full' && scope !== 'admin') return fail(400, { createKey: { error: `Unknown scope "${scope}".` } });
    const api = collector(event);
    try {
      const { project } = await api.project();
      const created = await api.createKey(project.id, { name, scope });
      return { createKey: { key: created.key, secret: created.secret } };
    } catch (failure) {
      return fail(502, { createKey: { error: failureMessage(failure) } });
    }
  },

  revokeKey: async (event) => {
    const form = await event.request.formData();
    const keyId = text(form, 'keyId');
    const api = collector(event);
    try {
      const { project } = await api.project();
      const { key } = await api.revokeKey(project.id, keyId);
      return { revokeKey: { name: key.name } };
    } catch (failure) {
      return fail(502, { revokeKey: { error: failureMessage(failure) } });
    }
  },

  addOverride: async (event) => {
    const form = await event.request.formData();
    const model = text(form, 'model');
    const values = Object.fromEntries(['model', 'provider', 'inputPerMTok', 'outputPerMTok', 'cacheReadPerMTok', 'cacheWritePerMTok', 'perHour', 'effectiveFrom'].map((k) => [k, text(form, k)]));
    if (!model) return fail(400, { addOverride: { values, error: 'Name the model the price is for.' } });
    const rates = {
      inputPerMTok: rate(form, 'inputPerMTok', 'Input price'),
      outputPerMTok: rate(form, 'outputPerMTok', 'Output price'),
      cacheReadPerMTok: rate(form, 'cacheReadPerMTok', 'Cache read price'),
      cacheWritePerMTok: rate(form, 'cacheWritePerMTok', 'Cache write price'),
      perHour: rate(form, 'perHour', 'Price per hour'),
    };
    const bad = Object.values(rates).find((r) => typeof r === 'string');
    if (typeof bad === 'string') return fail(400, { addOverride: { values, error: bad } });
    const effective = text(form, 'effectiveFrom');
    const effectiveFrom = effective ? new Date(`${effective}T00:00:00Z`) : null;
    if (effectiveFrom && Number.isNaN(effectiveFrom.getTime())) return fail(400, { addOverride: { values, error: `"${effective}" is not a date.` } });
    try {
      await collector(event).addPriceOverride({
        model,
        provider: text(form, 'provider'),
        ...rates,
        ...(effectiveFrom ? { effectiveFrom: effectiveFrom.toISOString() } : {}),
      });
      return { addOverride: { added: model } };
    } catch (failure) {
      return fail(400, { addOverride: { values, error: failureMessage(failure) } });
    }
  },

  deleteOverride: async (event) => {
    const form = await event.request.formData();
    try {
      await collector(event).deletePriceOverride(text(form, 'overrideId'));
      return { deleteOverride: { done: true } };
    } catch (failure) {
      return fail(502, { deleteOverride: { error: failureMessage(failure) } });
    }
  },

  reprice: async (event) => {
    try {
      const { repricedSpans } = await collector(event).reprice();
      return { reprice: { repricedSpans } };
    } catch (failure) {
      return fail(502, { reprice: { error: failureMessage(failure) } });
    }
  },
};
