// Charts draw on a canvas, so CSS cannot restyle them: they read the theme's colours when they draw
// and redraw when the theme changes (the toggle, or the system's light/dark setting).

/** Calls `changed` whenever the page's theme may have changed; returns the unsubscribe function. */
export function onThemeChange(changed: () => void): () => void {
  const media = matchMedia('(prefers-color-scheme: dark)');
  const observer = new MutationObserver(changed);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  media.addEventListener('change', changed);
  return () => {
    observer.disconnect();
    media.removeEventListener('change', changed);
  };
}

/** The current theme's colours for axis text and grid lines. */
export function chartColors(): { text: string; grid: string } {
  const style = getComputedStyle(document.documentElement);
  return { text: style.getPropertyValue('--text-2').trim(), grid: style.getPropertyValue('--border').trim() };
}
