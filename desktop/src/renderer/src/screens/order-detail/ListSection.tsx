import type { ReactNode } from 'react';

/** A card titled with how many entries it lists; a sentence instead of the list when there are none. */
export function ListSection({ title, count, empty, children }: { title: string; count: number; empty: string; children: ReactNode }) {
  return (
    <section className="card">
      <h2>
        {title} <span className="count">{count}</span>
      </h2>
      {count === 0 ? <p className="muted">{empty}</p> : children}
    </section>
  );
}
