import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useSyncExternalStore } from 'react';

/** Client routes live in the URL path (the api answers index.html for them), so reloads and links work. */
const listeners = new Set<() => void>();

/** Questions to ask before leaving the page, one per piece of unsaved work shown (see useLeaveWarning). */
const leaveWarnings = new Set<{ question: string }>();

const mayLeave = () => [...leaveWarnings].every(({ question }) => window.confirm(question));

/**
 * Each history entry of the console carries its position, so that Back or Forward, which the browser has already
 * done when it says so, can be undone by as many steps when the user chooses to stay.
 */
type Entry = { position: number };
const positionOf = (state: unknown) => (state as Partial<Entry> | null)?.position ?? 0;
let position = positionOf(history.state);
history.replaceState({ position } satisfies Entry, '');
let undoing = false;

window.addEventListener('popstate', (event) => {
  const target = positionOf(event.state);
  if (undoing) {
    undoing = false;
    return;
  }
  if (!mayLeave()) {
    undoing = true;
    history.go(position - target);
    return;
  }
  position = target;
  listeners.forEach((listener) => listener());
});

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (!mayLeave()) return;
  if (options.replace) history.replaceState({ position } satisfies Entry, '', to);
  else history.pushState({ position: ++position } satisfies Entry, '', to);
  listeners.forEach((listener) => listener());
}

export function useLocation(): { path: string; search: URLSearchParams } {
  const href = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => location.pathname + location.search,
  );
  const url = new URL(href, location.origin);
  return { path: url.pathname, search: url.searchParams };
}

/** Matches `/projects/:projectId/images/:imageId` style patterns; returns the parameters or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const names: string[] = [];
  const expression = new RegExp(
    `^${pattern.replace(/:([a-zA-Z]+)/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    })}/?$`,
  );
  const found = expression.exec(path);
  if (!found) return null;
  return Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(found[index + 1])]));
}

export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={follow} {...rest} />;
}

/**
 * While `question` is set (work not saved yet), leaving asks first: a link or button of the console or the browser's
 * Back and Forward with it, closing or reloading the tab with the browser's own question.
 */
export function useLeaveWarning(question: string | null): void {
  useEffect(() => {
    if (!question) return;
    const warning = { question };
    const onBeforeUnload = (event: BeforeUnloadEvent) => event.preventDefault();
    leaveWarnings.add(warning);
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => {
      leaveWarnings.delete(warning);
      window.removeEventListener('beforeunload', onBeforeUnload);
    };
  }, [question]);
}
