import type { Dashboard } from '@orders/shared';
import { dashboardFigures } from './figures';

/** The figure cards; each one a link to the list or queue behind it. */
export function DashboardFigures({ data }: { data: Dashboard }) {
  return (
    <section className="dash-figures" aria-label="Figures">
      {dashboardFigures(data).map((figure) => (
        <a key={figure.key} className={`dash-figure${figure.tone ? ` tone-border-${figure.tone}` : ''}`} href={figure.href} data-figure={figure.key}>
          <span className="dash-figure-label">{figure.label}</span>
          <strong className="dash-figure-value" data-value>
            {figure.value}
          </strong>
          <span className="dash-figure-detail muted">{figure.detail}</span>
        </a>
      ))}
    </section>
  );
}
