import { useSyncExternalStore } from 'react';

/** The logged-in user's access token, kept in this tab's sessionStorage so closing the tab logs out. */
export interface Session {
  username: string;
  accessToken: string;
}

const KEY = 'diyml.session';
const listeners = new Set<() => void>();
let current: Session | null = read();

function read(): Session | null {
  const stored = sessionStorage.getItem(KEY);
  return stored ? (JSON.parse(stored) as Session) : null;
}

export function getSession(): Session | null {
  return current;
}

export function setSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
  current = session;
  for (const listener of listeners) listener();
}

export function useSession(): Session | null {
  return useSyncExternalStore((listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, getSession);
}
