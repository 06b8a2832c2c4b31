// Who is acting: recorded as a grant's actor and a payout's approver. The dashboard signs in with a
// workspace key, not a person, so the operator says who they are and the browser remembers it (a
// name, not a secret, so it may outlive the tab unlike the key). Every field showing it shares one
// store, so typing in one updates the others on the page.
import { useSyncExternalStore } from 'react';

const ACTOR_STORAGE = 'perks.dashboard.actor';
const listeners = new Set<() => void>();

function read(): string {
  return localStorage.getItem(ACTOR_STORAGE) ?? '';
}

function write(value: string): void {
  localStorage.setItem(ACTOR_STORAGE, value);
  for (const l of listeners) l();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useActor(): [string, (value: string) => void] {
  return [useSyncExternalStore(subscribe, read), write];
}
