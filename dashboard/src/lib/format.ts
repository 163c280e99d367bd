import type { Cost } from '#lib/api-types.ts';

// One fixed locale and time zone on server and browser, so server-rendered text matches hydration.
const LOCALE = 'en-US';
const integer = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(LOCALE, { notation: 'compact', maximumFractionDigits: 1 });

/** USD. A null cost is unknown (no price for the model), which is not the same as free. */
export function formatCost(cost: Cost): string {
  if (cost === null || cost === undefined) return 'unpriced';
  if (cost === 0) return '$0.00';
  const abs = Math.abs(cost);
  const sign = cost < 0 ? '-' : '';
  // One LLM call often costs fractions of a cent: keep two significant digits down to a millionth of a dollar.
  if (abs < 0.000001) return `${sign}<$0.000001`;
  if (abs < 0.001) return `${sign}$${abs.toFixed(1 - Math.floor(Math.log10(abs)))}`;
  if (abs < 1) return `${sign}$${trimZeros(abs.toFixed(4))}`;
  return `${sign}$${abs.toLocaleString(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function trimZeros(fixed: string): string {
  // Keep at least cents: 0.1200 → 0.12, 0.0012 → 0.0012.
  return fixed.replace(/(\.\d\d\d*?)0+$/, '$1');
}

export function formatInteger(n: number): string {
  return integer.format(n);
}

/** Token counts: exact below 10k, compact above (12.3K, 4.5M). */
export function formatTokens(n: number): string {
  return Math.abs(n) < 10_000 ? integer.format(n) : compact.format(n);
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  // Sessions last hours or days: past an hour, seconds stop mattering.
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
  const hours = Math.round(ms / 3_600_000);
  return `${Math.floor(hours / 24)}d ${String(hours % 24).padStart(2, '0')}h`;
}

export function formatPercent(part: number, whole: number): string {
  if (whole === 0 || part === 0) return '0%';
  const pct = (part / whole) * 100;
  return pct > 0 && pct < 0.1 ? '<0.1%' : `${pct.toFixed(pct < 10 ? 1 : 0)}%`;
}

/** A timestamp in the viewer's zone (browser) or UTC (server render). */
export function formatTime(iso: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(LOCALE, {
    timeZone,
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
}

/** JSON for people: strings that hold JSON are unpacked, everything is indented. */
export function prettyJson(value: unknown): string {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        return JSON.stringify(JSON.parse(trimmed), null, 2);
      } catch {
        return value;
      }
    }
    return value;
  }
  if (value === undefined) return '';
  return JSON.stringify(value, null, 2) ?? String(value);
}
