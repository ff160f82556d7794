// Leaving fast, and signing out when the phone is left alone.

/** Somewhere ordinary to be seen looking at. */
export const NEUTRAL_SITE = "https://www.bbc.co.uk/weather";

/** Replace this page (not add to history) with a neutral one, hiding everything first. */
export function quickExit(replace: (url: string) => void = (url) => location.replace(url)): void {
  document.documentElement.classList.add("leaving");
  try {
    sessionStorage.clear();
  } catch {
    /* nothing to clear */
  }
  replace(NEUTRAL_SITE);
}

export function installQuickExit(target: Pick<Document, "addEventListener"> = document): void {
  target.addEventListener(
    "keydown",
    (event) => {
      if ((event as KeyboardEvent).key === "Escape") {
        event.preventDefault();
        quickExit();
      }
    },
    { capture: true },
  );
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
