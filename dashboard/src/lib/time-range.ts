import { error } from '@sveltejs/kit';

const HOUR = 3_600_000;

export const RANGE_PRESETS = {
  '1h': { label: 'Last hour', short: '1h', ms: HOUR },
  '24h': { label: 'Last 24 hours', short: '24h', ms: 24 * HOUR },
  '7d': { label: 'Last 7 days', short: '7d', ms: 7 * 24 * HOUR },
  '30d': { label: 'Last 30 days', short: '30d', ms: 30 * 24 * HOUR },
} as const;

export type RangePreset = keyof typeof RANGE_PRESETS;
export const DEFAULT_RANGE: RangePreset = '24h';

export interface TimeRange {
  /** A preset, or 'custom' when the URL carries explicit from/to. */
  preset: RangePreset | 'custom';
  from: string;
  to: string;
}

function isPreset(value: string): value is RangePreset {
  return Object.hasOwn(RANGE_PRESETS, value);
}

/**
 * The time range a URL asks for: `?range=24h`, or `?from=…&to=…` in ISO 8601, or the last 24 hours.
 * Bad values are a 400 that says what is accepted, not a silent fallback.
 */
export function timeRangeOf(params: URLSearchParams, now: number = Date.now()): TimeRange {
  const from = params.get('from');
  const to = params.get('to');
  if (from || to) {
    const fromMs = from ? Date.parse(from) : NaN;
    const toMs = to ? Date.parse(to) : now;
    if (Number.isNaN(fromMs) || Number.isNaN(toMs)) {
      error(400, `The time range from=${from ?? ''} to=${to ?? ''} is not ISO 8601 (e.g. 2026-11-24T10:00:00Z); from is required.`);
    }
    if (fromMs >= toMs) error(400, `The time range is empty: from (${from}) must be before to (${to ?? 'now'}).`);
    return { preset: 'custom', from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
  }

  const range = params.get('range') ?? DEFAULT_RANGE;
  if (!isPreset(range)) {
    error(400, `Unknown range "${range}". Use one of ${Object.keys(RANGE_PRESETS).join(', ')}, or explicit from/to.`);
  }
  return {
    preset: range,
    from: new Date(now - RANGE_PRESETS[range].ms).toISOString(),
    to: new Date(now).toISOString(),
  };
}

const BUCKET_STEPS = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400];

/** A bucket width giving at most ~60 bars across the range, on a step a person reads easily. */
export function bucketSecondsFor(range: TimeRange): number {
  const spanSeconds = (Date.parse(range.to) - Date.parse(range.from)) / 1000;
  return BUCKET_STEPS.find((step) => spanSeconds / step <= 60) ?? BUCKET_STEPS.at(-1)!;
}
