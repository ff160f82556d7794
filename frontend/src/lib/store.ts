// A tiny observable store and the hook that redraws a component when it changes.

import { useEffect, useReducer } from "preact/hooks";

export interface Store<T> {
  get(): T;
  set(changes: Partial<T>): void;
  subscribe(listener: () => void): () => void;
}

export function createStore<T extends object>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => value,
    set(changes) {
      value = { ...value, ...changes };
      listeners.forEach((listener) => listener());
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function useStore<T extends object>(store: Store<T>): T {
  const [, redraw] = useReducer((n: number, _: void) => n + 1, 0);
  useEffect(() => store.subscribe(() => redraw(undefined)), [store]);
  return store.get();
}
