// Distinct in light and dark; assigned in a fixed order so chart and table agree on a model's colour.
const PALETTE = ['#6366f1', '#14b8a6', '#f59e0b', '#ec4899', '#3b82f6', '#84cc16', '#f97316', '#a855f7', '#06b6d4', '#ef4444'];

export function modelColors(models: string[]): Map<string, string> {
  const colors = new Map<string, string>();
  for (const model of models) {
    if (!colors.has(model)) colors.set(model, PALETTE[colors.size % PALETTE.length]!);
  }
  return colors;
}
