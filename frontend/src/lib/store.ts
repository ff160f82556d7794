// A tiny observable store and the hook that redraws a component when it changes.

import { useLayoutEffect, useReducer } from "preact/hooks";

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
  const value = store.get();
  // A layout effect, so it runs straight after the render rather than after a frame; and a
  // change made between the render and the subscription (the app starting fast) still redraws:
  // missed, it left the app on "Loading…" for good.
  useLayoutEffect(() => {
    const stop = store.subscribe(() => redraw(undefined));
    if (store.get() !== value) redraw(undefined);
    return stop;
  }, [store]);
  return value;
}
