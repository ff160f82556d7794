// Leaving fast, and signing out when the phone is left alone.

import { freezeHistory, historyDepth } from "./router";

/** Somewhere ordinary to be seen looking at. */
export const NEUTRAL_SITE = "https://www.bbc.co.uk/weather";

/**
 * Replace the app in history with a neutral page, hiding everything first. The app's screens
 * are history entries of their own: go back to the first of them, then replace it, which also
 * drops every entry after it, so neither Back nor Forward returns to the app.
 */
export function quickExit(replace: (url: string) => void = (url) => location.replace(url), depth: number = historyDepth()): void {
  document.documentElement.classList.add("leaving");
  freezeHistory();
  try {
    sessionStorage.clear();
  } catch {
    /* nothing to clear */
  }
  if (depth <= 0 || typeof history === "undefined") {
    replace(NEUTRAL_SITE);
    return;
  }
  let gone = false;
  const leave = () => {
    if (!gone) {
      gone = true;
      replace(NEUTRAL_SITE);
    }
  };
  window.addEventListener("popstate", leave, { once: true });
  // Should the way back take longer than a moment, leave from wherever the page is.
  setTimeout(leave, 400);
  history.go(-depth);
}

export function installQuickExit(target: Pick<Document, "addEventListener"> = document, exit: () => void = () => quickExit()): void {
  target.addEventListener(
    "keydown",
    (event) => {
      if ((event as KeyboardEvent).key === "Escape") {
        event.preventDefault();
        exit();
      }
    },
    { capture: true },
  );
}

const EXIT_SIGNS_OUT_KEY = "notes.exit-keeps-session";

/** Whether quick exit signs out too (on unless the person turned it off on this phone). */
export function exitSignsOut(): boolean {
  try {
    return localStorage.getItem(EXIT_SIGNS_OUT_KEY) !== "1";
  } catch {
    return true;
  }
}

export function setExitSignsOut(on: boolean): void {
  try {
    if (on) localStorage.removeItem(EXIT_SIGNS_OUT_KEY);
    else localStorage.setItem(EXIT_SIGNS_OUT_KEY, "1");
  } catch {
    /* storage refused: the safe default (sign out) stays */
  }
}

/**
 * The privacy screen: while the page is hidden (another app, the recent-apps list, a locked
 * phone) a plain cover is drawn over everything, so the task switcher's thumbnail shows
 * nothing of what was open. It lifts when the page is shown again.
 */
export function installPrivacyScreen(doc: Pick<Document, "addEventListener" | "visibilityState" | "documentElement"> = document): void {
  const cover = () => doc.documentElement.classList.toggle("covered", doc.visibilityState === "hidden");
  doc.addEventListener("visibilitychange", cover);
  // pagehide too: some browsers take the thumbnail as the page is left, before it is hidden.
  doc.addEventListener("pagehide" as "visibilitychange", () => doc.documentElement.classList.add("covered"));
  doc.addEventListener("pageshow" as "visibilitychange", cover);
}

export const IDLE_MINUTES = 10;
const ACTIVITY = ["pointerdown", "keydown", "touchstart", "wheel", "input"] as const;

/**
 * Call onIdle once nothing has happened for `limitMs`. Checked on a timer and whenever the
 * page becomes visible again, since a sleeping phone pauses timers.
 */
export function watchIdle(
  limitMs: number,
  onIdle: () => void,
  now: () => number = () => Date.now(),
  target: Pick<Window, "addEventListener" | "removeEventListener"> = window,
): () => void {
  let last = now();
  let fired = false;
  const touch = () => {
    last = now();
  };
  const check = () => {
    if (!fired && now() - last >= limitMs) {
      fired = true;
      stop();
      onIdle();
    }
  };
  const visible = () => {
    if (typeof document === "undefined" || document.visibilityState === "visible") check();
  };
  ACTIVITY.forEach((name) => target.addEventListener(name, touch, { passive: true, capture: true }));
  target.addEventListener("focus", visible);
  if (typeof document !== "undefined") document.addEventListener("visibilitychange", visible);
  const timer = setInterval(check, Math.min(15_000, Math.max(1000, limitMs / 4)));
  function stop() {
    clearInterval(timer);
    ACTIVITY.forEach((name) => target.removeEventListener(name, touch, { capture: true }));
    target.removeEventListener("focus", visible);
    if (typeof document !== "undefined") document.removeEventListener("visibilitychange", visible);
  }
  return stop;
}
