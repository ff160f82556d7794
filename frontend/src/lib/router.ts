// Screens without addresses. The address bar always says "/": browser history, the task
// switcher and the history list never show which screen was open ("/police-report" would tell
// someone looking at the phone what it is for). Each screen is a history entry of its own
// (pushState, with the screen in the entry's state and the address left at "/"), so Back and
// Forward (Android's Back too) move between screens instead of leaving the app. Quick exit
// signs out by default, so Back to the app after it shows only the sign-in screen. The current
// screen is kept for this tab only (sessionStorage), so a reload comes back to it.

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

function remember(route: Route): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ name: route.name, params: route.params }));
  } catch {
    /* private mode: the screen is simply not remembered */
  }
}

let frozen = false;

/** Leaving (quick exit): no screen may add itself to history any more, or Back would find it. */
export function freezeHistory(): void {
  frozen = true;
}

export function navigate(name: string, params: Record<string, string> = {}, options: { replace?: boolean } = {}): void {
  if (frozen) return;
  const route = { name, params, visit: ++visits };
  remember(route);
  const depth = historyDepth();
  if (options.replace) history.replaceState({ screen: { name, params }, depth }, "", "/");
  else history.pushState({ screen: { name, params }, depth: depth + 1 }, "", "/");
  routeStore.set({ route });
  window.scrollTo(0, 0);
}

/** Back and Forward: the entry's own screen, drawn afresh. */
export function followHistory(): void {
  window.addEventListener("popstate", (event) => {
    const screen = (event.state as { screen?: Route } | null)?.screen;
    if (!screen || typeof screen.name !== "string") return;
    const route = { name: screen.name, params: screen.params ?? {}, visit: ++visits };
    remember(route);
    routeStore.set({ route });
  });
}

export function useRoute(): Route {
  return useStore(routeStore).route;
}

/** Keep the address bar neutral (the server sends the app for any address). */
export function neutralAddress(): void {
  const { route } = routeStore.get();
  history.replaceState({ screen: { name: route.name, params: route.params }, depth: historyDepth() }, "", "/");
}

/** How many of the app's screens are behind this one in history (0 on the first). */
export function historyDepth(): number {
  if (typeof history === "undefined") return 0;
  const depth = (history.state as { depth?: unknown } | null)?.depth;
  return typeof depth === "number" && depth > 0 ? depth : 0;
}
