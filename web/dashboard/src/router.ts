// A few lines of routing over the History API: each page has a path under /dashboard/, so a
// page can be bookmarked or reloaded; query strings carry a page's search and filters.
import { useEffect, useState } from 'react';

export const BASE = '/dashboard';

export interface Location {
  /** The part after /dashboard, e.g. `/customers/cus_1` (empty means the overview). */
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  const raw = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : '/';
  return { path: raw.replace(/\/+$/, '') || '/', query: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  const url = `${BASE}${to.startsWith('/') ? to : `/${to}`}`;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  for (const l of listeners) l();
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}

/** A link that navigates inside the dashboard without reloading the page. */
export function linkProps(to: string) {
  return {
    href: `${BASE}${to}`,
    onClick: (e: { preventDefault(): void; metaKey: boolean; ctrlKey: boolean }) => {
      if (e.metaKey || e.ctrlKey) return;
      e.preventDefault();
      navigate(to);
    },
  };
}
