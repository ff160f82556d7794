// Screens without addresses. The address bar always says "/": browser history, the task
// switcher and the history list never show which screen was open ("/police-report" would tell
// someone looking at the phone what it is for). Screens replace each other instead of stacking
// up in history, so after a quick exit Back cannot return to the app. The current screen is kept
// for this tab only (sessionStorage), so a reload comes back to it.

import { createStore, useStore } from "./store";

export interface Route {
  name: string;
  params: Record<string, string>;
  /** Counts navigations: going to a screen again draws it afresh, with fresh data. */
  visit?: number;
}

const KEY = "notes.screen";

function saved(): Route {
  try {
    const route = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Route | null;
    if (route && typeof route.name === "string" && route.params && typeof route.params === "object") return route;
  } catch {
    /* nothing saved, or storage refused */
  }
  return { name: "home", params: {} };
}

export const routeStore = createStore<{ route: Route }>({ route: saved() });

let visits = 0;

export function navigate(name: string, params: Record<string, string> = {}): void {
  const route = { name, params, visit: ++visits };
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ name, params }));
  } catch {
    /* private mode: the screen is simply not remembered */
  }
  routeStore.set({ route });
  window.scrollTo(0, 0);
}

export function useRoute(): Route {
  return useStore(routeStore).route;
}

/** Keep the address bar neutral (the server sends the app for any address). */
export function neutralAddress(): void {
  if (location.pathname !== "/" || location.search || location.hash) history.replaceState(null, "", "/");
}
