/**
 * Runs `measure` now and again whenever one of `elements` changes size; returns the stop. Without
 * ResizeObserver (jsdom in the component tests) it runs once.
 */
export function measureOnResize(elements: readonly Element[], measure: () => void): () => void {
  measure();
  if (typeof ResizeObserver === 'undefined') return () => undefined;
  const observer = new ResizeObserver(measure);
  for (const element of elements) observer.observe(element);
  return () => observer.disconnect();
}
