import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NEUTRAL_SITE, watchIdle } from "./safety";

class Target {
  listeners = new Map<string, Set<() => void>>();
  addEventListener(name: string, listener: () => void) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name)!.add(listener);
  }
  removeEventListener(name: string, listener: () => void) {
    this.listeners.get(name)?.delete(listener);
  }
  fire(name: string) {
    this.listeners.get(name)?.forEach((listener) => listener());
  }
  count() {
    return [...this.listeners.values()].reduce((n, set) => n + set.size, 0);
  }
}

describe("signing out after inactivity", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("fires once after the limit with nothing happening", () => {
    const target = new Target();
    const onIdle = vi.fn();
    watchIdle(60_000, onIdle, () => Date.now(), target as unknown as Window);
    vi.advanceTimersByTime(59_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(16_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(600_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    expect(target.count()).toBe(0); // stopped listening
  });

  it("waits again after each touch or key", () => {
    const target = new Target();
    const onIdle = vi.fn();
    watchIdle(60_000, onIdle, () => Date.now(), target as unknown as Window);
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(45_000);
      target.fire(i % 2 ? "keydown" : "pointerdown");
    }
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(75_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("notices at once when the phone wakes after the limit", () => {
    const target = new Target();
    const onIdle = vi.fn();
    let now = 0;
    watchIdle(600_000, onIdle, () => now, target as unknown as Window);
    now = 3_600_000; // the phone slept for an hour; no timer ran
    target.fire("focus");
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("can be stopped", () => {
    const target = new Target();
    const onIdle = vi.fn();
    const stop = watchIdle(60_000, onIdle, () => Date.now(), target as unknown as Window);
    stop();
    vi.advanceTimersByTime(600_000);
    expect(onIdle).not.toHaveBeenCalled();
  });
});

describe("quick exit", () => {
  it("goes somewhere ordinary over https", () => {
    expect(NEUTRAL_SITE).toMatch(/^https:\/\/www\.bbc\.co\.uk\//);
  });
});
