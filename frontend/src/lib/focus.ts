// Focus never hidden (WCAG 2.2, 2.4.11): when a field gets focus, or the on-screen keyboard
// changes how much of the page can be seen, the field is scrolled clear of the sticky header,
// the Save bar and the keyboard.

/** The part of the window not covered by the keyboard or anything stuck to the top or bottom. */
function clearArea(): { top: number; bottom: number } {
  const view = window.visualViewport;
  let top = view ? view.offsetTop : 0;
  let bottom = top + (view ? view.height : window.innerHeight);
  for (const element of document.querySelectorAll<HTMLElement>(".bar, .sticky-actions")) {
    const style = getComputedStyle(element);
    if (style.position !== "sticky" && style.position !== "fixed") continue;
    const box = element.getBoundingClientRect();
    if (box.top <= top + 1) top = Math.max(top, box.bottom);
    else if (box.bottom >= bottom - 1) bottom = Math.min(bottom, box.top);
  }
  return { top, bottom };
}

export function revealFocused(): void {
  const element = document.activeElement as HTMLElement | null;
  if (!element || element === document.body || !element.matches("input, textarea, select, button, a, summary, [tabindex]")) return;
  const box = element.getBoundingClientRect();
  const area = clearArea();
  if (box.top >= area.top && box.bottom <= area.bottom) return;
  const middle = (area.top + area.bottom) / 2;
  window.scrollBy({ top: box.top + box.height / 2 - middle, behavior: "instant" as ScrollBehavior });
}

export function keepFocusInView(): void {
  document.addEventListener("focusin", () => requestAnimationFrame(revealFocused));
  window.visualViewport?.addEventListener("resize", () => requestAnimationFrame(revealFocused));
}
