import { useLayoutEffect, useRef } from 'react';
import type { Dashboard } from '@orders/shared';
import { measureOnResize } from '../../components/resize';
import { dashboardFigures } from './figures';

/** The smallest a figure's value is set in before it would be cut (px); the stylesheet's size is the largest. */
const SMALLEST_VALUE_PX = 12;

/**
 * A figure's value, whole: a shop's 90 days ("$10,000,076.99") is wider than a card in the row of
 * seven, and cut with an ellipsis it read "$7,173,432.…". The type steps down a pixel at a time
 * until the value fits its card, again whenever the card's width changes.
 */
function FigureValue({ text }: { text: string }) {
  const ref = useRef<HTMLElement>(null);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    let width = -1;
    const fit = () => {
      if (element.clientWidth === width) return;
      width = element.clientWidth;
      element.style.fontSize = '';
      let size = Number.parseFloat(getComputedStyle(element).fontSize);
      while (element.scrollWidth > element.clientWidth && size > SMALLEST_VALUE_PX) {
        size -= 1;
        element.style.fontSize = `${size}px`;
      }
    };
    return measureOnResize([element], fit);
  }, [text]);
  return (
    <strong ref={ref} className="dash-figure-value" data-value title={text}>
      {text}
    </strong>
  );
}

/** The figure cards; each one a link to the list or queue behind it. */
export function DashboardFigures({ data }: { data: Dashboard }) {
  return (
    <section className="dash-figures" aria-label="Figures">
      {dashboardFigures(data).map((figure) => (
        <a key={figure.key} className={`dash-figure${figure.tone ? ` tone-border-${figure.tone}` : ''}`} href={figure.href} data-figure={figure.key}>
          <span className="dash-figure-label">{figure.label}</span>
          <FigureValue text={figure.value} />
          {/* Up to two lines; all of it on hover. */}
          <span className="dash-figure-detail muted" title={figure.detail}>
            {figure.detail}
          </span>
        </a>
      ))}
    </section>
  );
}
