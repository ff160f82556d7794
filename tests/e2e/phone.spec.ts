// The phone in someone else's hands: signing out holds with no signal, nothing readable is left
// in IndexedDB, the task switcher sees a blank cover, the product is never named, and Back
// moves between screens without losing what was typed.

import { request as apiRequest, type BrowserContext, type Page } from "@playwright/test";
import { apiGet, expect, register, serviceWorkerReady, sessionProof, test } from "./support";

const SESSION_COOKIE = "waymark_session";

/** /auth/me as someone holding exactly what the browser holds: its cookie, and a proof if any. */
async function meWith(cookie: string, proof: string | null): Promise<number> {
  const outsider = await apiRequest.newContext({ baseURL: process.env.E2E_BASE_URL });
  try {
    const headers: Record<string, string> = { cookie: `${SESSION_COOKIE}=${cookie}` };
    if (proof) headers["Session-Proof"] = proof;
    return (await outsider.get("/api/v1/auth/me", { headers })).status();
  } finally {
    await outsider.dispose();
  }
}

async function sessionCookie(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === SESSION_COOKIE);
  expect(cookie, "a session cookie").toBeTruthy();
  return cookie!.value;
}

/** Every IndexedDB database of the page, every row, binary values decoded as text. */
async function indexedDbAsText(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const rows: unknown[] = [];
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise<IDBDatabase>((done, fail) => {
        const open = indexedDB.open(name!);
        open.onsuccess = () => done(open.result);
        open.onerror = () => fail(open.error);
      });
      for (const store of Array.from(db.objectStoreNames)) {
        rows.push(
          ...(await new Promise<unknown[]>((done) => {
            const all = db.transaction(store).objectStore(store).getAll();
            all.onsuccess = () => done(all.result as unknown[]);
          })),
        );
      }
      db.close();
    }
    const decode = (value: unknown): unknown => {
      if (value instanceof ArrayBuffer) return new TextDecoder().decode(value);
      if (ArrayBuffer.isView(value)) return new TextDecoder().decode(value);
      if (value instanceof CryptoKey) return `CryptoKey extractable=${value.extractable}`;
      if (Array.isArray(value)) return value.map(decode);
      if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
      return value;
    };
    return JSON.stringify(rows.map(decode));
  });
}

/** The first request to the API after `start` is called, in order. */
function apiRequestsOf(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/api/")) seen.push(`${request.method()} ${url.pathname}`);
  });
  return seen;
}

test("signing out offline holds: back online the app asks for a sign-in and the old cookie opens nothing", async ({ page, context }) => {
  const account = await register(page);
  await serviceWorkerReady(page);
  const cookie = await sessionCookie(context);
  const proof = await sessionProof(page);
  expect(proof).toBeTruthy();
  expect(await meWith(cookie, proof)).toBe(200);
  // The cookie alone was never enough.
  expect(await meWith(cookie, null)).toBe(401);

  await context.setOffline(true);
  await page.getByRole("button", { name: "Account and safety" }).click();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  expect(await sessionProof(page)).toBeNull();

  // Still offline, the phone as it is: reopened, it shows the sign-in screen (from the service
  // worker, not the browser's error page), and nothing of the account.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expect(page.locator("body")).not.toContainText(account.name);
  await expect(page.locator("body")).not.toContainText("127.0.0.1");

  // Back online: the sign-out is the first thing the server hears.
  const sent = apiRequestsOf(page);
  await context.setOffline(false);
  await page.reload();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  // Even with the proof (which the phone no longer has) the old session is gone.
  await expect.poll(() => meWith(cookie, proof)).toBe(401);
  // Nothing went before the sign-out (sent by the app, or already by the service worker).
  expect(sent.filter((request) => request !== "POST /api/v1/auth/logout")).toEqual([]);
  expect(await meWith(cookie, null)).toBe(401);
});

test("the automatic sign-out holds offline too", async ({ page, context }) => {
  await page.clock.install();
  const account = await register(page);
  const cookie = await sessionCookie(context);
  const proof = await sessionProof(page);
  await page.getByRole("button", { name: "Everything so far" }).click();

  await context.setOffline(true);
  await page.clock.fastForward("11:00");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  expect(await sessionProof(page)).toBeNull();
  expect(await meWith(cookie, null)).toBe(401);

  const sent = apiRequestsOf(page);
  await context.setOffline(false);
  await page.reload();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expect(page.locator("body")).not.toContainText(account.name);
  await expect.poll(() => meWith(cookie, proof)).toBe(401);
  expect(sent.filter((request) => request !== "POST /api/v1/auth/logout")).toEqual([]);
});

test("back online with the app left open, the sign-out reaches the server by itself", async ({ page, context }) => {
  const account = await register(page);
  await serviceWorkerReady(page);
  const cookie = await sessionCookie(context);
  const proof = await sessionProof(page);

  await context.setOffline(true);
  await page.getByRole("button", { name: "Account and safety" }).click();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  expect(await sessionProof(page)).toBeNull();
  await expect(page.locator("body")).not.toContainText(account.name);

  // No reload, no tap: the signal coming back is enough (the app's "online" handler, or the
  // service worker's sync, whichever is first).
  await context.setOffline(false);
  await expect.poll(() => meWith(cookie, proof)).toBe(401);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test("the service worker sends a sign-out made offline even if the app is never opened again", async ({ page, context }) => {
  await register(page);
  await serviceWorkerReady(page);
  const cookie = await sessionCookie(context);
  const proof = await sessionProof(page);
  const origin = new URL(page.url()).origin;

  await context.setOffline(true);
  await page.getByRole("button", { name: "Account and safety" }).click();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  // The app is gone: only the service worker is left to tell the server.
  await page.goto("about:blank");
  await context.setOffline(false);

  // The browser fires the sync when it sees the signal return (with an emulated signal it may
  // already have); DevTools fires it now, and a second one finds nothing owed.
  const devtools = await context.newCDPSession(page);
  const registration = new Promise<string>((done) =>
    devtools.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
      const ours = registrations.find((r) => r.scopeURL.startsWith(origin) && !r.isDeleted);
      if (ours) done(ours.registrationId);
    }),
  );
  await devtools.send("ServiceWorker.enable");
  await devtools.send("ServiceWorker.dispatchSyncEvent", { origin, registrationId: await registration, tag: "logout", lastChance: false });
  await expect.poll(() => meWith(cookie, proof)).toBe(401);
});

test("on a signal that hangs, signing out clears the screen at once, then ends the session", async ({ page, context }) => {
  const account = await register(page);
  const cookie = await sessionCookie(context);
  const proof = await sessionProof(page);
  let release: () => void = () => undefined;
  const held = new Promise<void>((done) => (release = done));
  await page.route("**/api/v1/auth/logout", async (route) => {
    await held;
    await route.continue();
  });
  await page.getByRole("button", { name: "Account and safety" }).click();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  // The server has not answered yet: the account is already gone from the screen and the phone.
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expect(page.locator("body")).not.toContainText(account.name);
  expect(await sessionProof(page)).toBeNull();
  release();
  await expect.poll(() => meWith(cookie, proof)).toBe(401);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test("quick exit signs out too (unless turned off)", async ({ page, context }) => {
  await page.context().route("https://www.bbc.co.uk/**", (route) =>
    route.fulfill({ contentType: "text/html", body: "<title>Weather</title><h1>Weather</h1>" }),
  );
  await register(page);
  const cookie = await sessionCookie(context);
  const proof = await sessionProof(page);
  await page.getByRole("button", { name: "Account and safety" }).click();
  await expect(page.getByRole("checkbox", { name: "Quick exit signs me out too" })).toBeChecked();
  await page.getByRole("button", { name: "Quick exit" }).click();
  await page.waitForURL(/bbc\.co\.uk/);
  await expect.poll(() => meWith(cookie, proof)).toBe(401);
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test("IndexedDB holds no readable text of an offline incident or a draft", async ({ page, context }) => {
  await register(page);
  await context.setOffline(true);
  await page.getByRole("button", { name: "Log something" }).click();
  await page.getByLabel("What happened").fill("Blue hatchback parked outside the nursery gates");
  await page.locator("summary", { hasText: "Add more detail" }).click();
  await page.getByLabel("Where").fill("Elmfield Road");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("It will be sent as soon as there is a connection.")).toBeVisible();
  // A second one, only typed (a draft).
  await page.getByRole("button", { name: "Log something else" }).click();
  await page.getByLabel("What happened").fill("Unfinished note about the allotment");
  await page.waitForTimeout(600); // the draft is written a moment after typing stops

  const stored = await indexedDbAsText(page);
  for (const words of ["hatchback", "nursery", "Elmfield", "allotment"]) expect(stored).not.toContain(words);
  expect(stored).toContain("CryptoKey extractable=false");
  const local = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  for (const words of ["hatchback", "nursery", "Elmfield", "allotment"]) expect(local).not.toContain(words);

  // The app itself still reads it, and sends it once the signal is back.
  await context.setOffline(false);
  await page.getByRole("button", { name: "Notes – home" }).click();
  await expect(page.getByRole("list", { name: "Recent" })).toContainText("Blue hatchback parked outside the nursery gates");
});

test("Back and Forward move between screens, the address stays /, and the draft survives Back and a reload", async ({ page }) => {
  await register(page);
  await page.getByRole("button", { name: "Log something" }).click();
  await expect(page.getByRole("heading", { name: "What happened?" })).toBeVisible();
  await page.getByLabel("What happened").fill("He was at the station again");
  await page.waitForTimeout(600);

  await page.goBack();
  await expect(page.getByRole("heading", { level: 1, name: /^Hello/ })).toBeVisible();
  expect(new URL(page.url()).pathname).toBe("/");
  await page.goForward();
  await expect(page.getByRole("heading", { name: "What happened?" })).toBeVisible();
  await expect(page.getByLabel("What happened")).toHaveValue("He was at the station again");
  expect(new URL(page.url()).pathname).toBe("/");

  await page.reload();
  await expect(page.getByLabel("What happened")).toHaveValue("He was at the station again");

  // Saved, the draft is gone: a new incident starts empty.
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Your incident is saved.")).toBeVisible();
  await page.getByRole("button", { name: "Log something else" }).click();
  await expect(page.getByLabel("What happened")).toHaveValue("");
});

test("a blank privacy screen covers the app while it is hidden", async ({ page }) => {
  await register(page);
  const hide = (state: "hidden" | "visible") =>
    page.evaluate((value) => {
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => value });
      Object.defineProperty(document, "hidden", { configurable: true, get: () => value === "hidden" });
      document.dispatchEvent(new Event("visibilitychange"));
    }, state);
  await hide("hidden");
  await expect(page.locator("html")).toHaveClass(/covered/);
  await expect(page.getByRole("heading", { level: 1 })).toBeHidden();
  await expect(page.getByRole("button", { name: "Quick exit" })).toBeHidden();
  await page.screenshot({ path: "test-results/privacy-screen.png" });
  await hide("visible");
  await expect(page.locator("html")).not.toHaveClass(/covered/);
  await expect(page.getByRole("heading", { level: 1, name: /^Hello/ })).toBeVisible();
});

test("no page text, title or manifest names the product", async ({ page }) => {
  const texts: string[] = [];
  const collect = async () => texts.push(await page.evaluate(() => `${document.title}\n${document.body.innerText}`));
  await page.goto("/");
  await collect();
  await page.getByRole("button", { name: "Make an account" }).click();
  await page.getByRole("button", { name: "Make my account" }).click();
  await collect();
  await page.getByRole("button", { name: "I already have an account" }).click();
  await register(page);
  await collect();
  for (const screen of ["Log something", "Everything so far", "Share with an advocate", "Account and safety"]) {
    await page.getByRole("button", { name: "Notes – home" }).click();
    await page.getByRole("button", { name: screen }).click();
    await page.waitForLoadState("networkidle");
    await collect();
  }
  const manifest = (await (await page.request.get("/manifest.webmanifest")).json()) as { name: string; short_name: string };
  expect(manifest.name).toBe("Notes");
  expect(manifest.short_name).toBe("Notes");
  for (const text of texts) expect(text).not.toMatch(/waymark/i);
});

test("the app's files come compressed to a browser that asks", async ({ browser }) => {
  const context = await browser.newContext({ baseURL: process.env.E2E_BASE_URL, serviceWorkers: "block" });
  const page = await context.newPage();
  const encodings = new Map<string, string>();
  page.on("response", async (response) => {
    const url = new URL(response.url());
    if (url.pathname === "/" || url.pathname.startsWith("/assets/"))
      encodings.set(url.pathname, (await response.allHeaders())["content-encoding"] ?? "none");
  });
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  expect(encodings.size).toBeGreaterThanOrEqual(3);
  for (const [path, encoding] of encodings) expect([path, encoding]).toEqual([path, "br"]);
  await context.close();
});

test("sign-in and sign-up failures move focus to the error and announce it", async ({ page }) => {
  await page.goto("/");
  await page.getByLabel("Email").fill("nobody@example.org");
  await page.getByLabel("Password").fill("not the password at all");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toBeVisible();
  await expect(alert).toBeFocused();

  await page.getByRole("button", { name: "Make an account" }).click();
  await page.getByLabel("Your name").fill("Sam");
  await page.getByLabel("Email").fill("sam@example.org");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Make my account" }).click();
  await expect(page.getByRole("alert")).toContainText("Password");
  await expect(page.getByLabel("Password")).toBeFocused();
});

test("at 200 % zoom (360×400) the focused field stays in view and nothing sticks", async ({ browser }) => {
  const context = await browser.newContext({
    baseURL: process.env.E2E_BASE_URL,
    viewport: { width: 360, height: 400 },
    deviceScaleFactor: 2,
    hasTouch: true,
  });
  const page = await context.newPage();
  await register(page);
  await page.getByRole("button", { name: "Log something" }).click();
  await page.locator("summary", { hasText: "Add more detail" }).click();
  expect(await page.locator(".bar").evaluate((bar) => getComputedStyle(bar).position)).toBe("static");
  expect(await page.locator(".sticky-actions").evaluate((bar) => getComputedStyle(bar).position)).toBe("static");
  await page.getByRole("heading", { name: "What happened?" }).focus();
  const hidden: string[] = [];
  for (let step = 0; step < 30; step += 1) {
    await page.keyboard.press("Tab");
    const seen = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement;
      if (!element || element === document.body) return { visible: true, what: "body" };
      const box = element.getBoundingClientRect();
      const x = Math.min(Math.max(box.left + box.width / 2, 1), window.innerWidth - 1);
      const y = box.top + Math.min(box.height / 2, 20);
      const top = document.elementFromPoint(x, y);
      const visible = box.bottom > 0 && box.top < window.innerHeight && !!top && (top === element || element.contains(top) || top.contains(element) || (top as HTMLLabelElement).control === element);
      return { visible, what: `${element.tagName} ${element.getAttribute("aria-label") ?? element.textContent?.slice(0, 20) ?? ""}` };
    });
    if (!seen.visible) hidden.push(seen.what);
  }
  expect(hidden).toEqual([]);
  await context.close();
});

test("reflow at 320 px: nothing scrolls sideways, targets are large enough, the focus ring shows in both themes", async ({ browser }) => {
  for (const colorScheme of ["light", "dark"] as const) {
    const context = await browser.newContext({ baseURL: process.env.E2E_BASE_URL, viewport: { width: 320, height: 640 }, colorScheme });
    const page = await context.newPage();
    await register(page);
    for (const screen of ["Log something", "Everything so far", "Account and safety"]) {
      await page.getByRole("button", { name: "Notes – home" }).click();
      await page.getByRole("button", { name: screen }).click();
      await page.waitForLoadState("networkidle");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${screen} at 320 px`).toBeLessThanOrEqual(0);
      const small = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLInputElement>("input[type=checkbox], input[type=radio]")]
          .filter((input) => input.offsetParent !== null)
          .map((input) => input.getBoundingClientRect())
          .filter((box) => box.width < 24 || box.height < 24).length,
      );
      expect(small, `${screen}: checkboxes under 24 px`).toBe(0);
    }
    // The ring around a focused button against the page behind it.
    await page.getByRole("button", { name: "Notes – home" }).focus();
    await page.keyboard.press("Tab");
    const contrast = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement;
      const rgb = (color: string) => (color.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
      const luminance = ([r, g, b]: number[]) =>
        [r, g, b]
          .map((c) => c / 255)
          .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
          .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
      const ring = luminance(rgb(getComputedStyle(element).outlineColor));
      let behind: Element | null = element.parentElement;
      let background = "rgba(0, 0, 0, 0)";
      while (behind && /rgba\(0, 0, 0, 0\)|transparent/.test(background)) {
        background = getComputedStyle(behind).backgroundColor;
        behind = behind.parentElement;
      }
      const page = luminance(rgb(background));
      const [light, dark] = ring > page ? [ring, page] : [page, ring];
      return { ratio: (light + 0.05) / (dark + 0.05), width: getComputedStyle(element).outlineWidth };
    });
    expect(contrast.ratio, `${colorScheme} focus ring`).toBeGreaterThanOrEqual(3);
    expect(parseFloat(contrast.width)).toBeGreaterThanOrEqual(2);
    await context.close();
  }
});

test("when it happened: now in one step, or a day and a time of their own with now and about, labelled, at 360 px and 200 % zoom", async ({ page, browser }) => {
  await register(page);
  await page.getByRole("button", { name: "Log something" }).click();
  const when = page.getByRole("group", { name: "When did it happen?" });
  // Now, by default: one line and a single stop for the keyboard.
  await expect(when.locator(".when-now p")).toHaveText(/^Now: today, \d\d:\d\d$/);
  await expect(when.locator("input, button, select")).toHaveCount(1);
  await when.getByRole("button", { name: "Change the day or time" }).click();

  const day = when.getByLabel("Day", { exact: true });
  const time = when.getByLabel("Time", { exact: true });
  await expect(day).toBeFocused();
  // Side by side on a 360 px phone.
  const [dayBox, timeBox] = [await day.boundingBox(), await time.boundingBox()];
  expect(Math.abs(dayBox!.y - timeBox!.y)).toBeLessThan(2);

  // "Now" goes back, with focus on the button that changes it again.
  await when.getByRole("button", { name: "Use the time now" }).click();
  await expect(when.getByRole("button", { name: "Change the day or time" })).toBeFocused();
  await when.getByRole("button", { name: "Change the day or time" }).click();

  // A missing part is named, inside the group and in its description.
  await time.fill("");
  await page.getByLabel("What happened").fill("He was at the bus stop again");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(when.locator(".error")).toHaveText(/^Enter a date and time/);
  await expect(when).toHaveAccessibleDescription(/Enter a date and time/);

  await day.fill("2025-11-20");
  await time.fill("21:40");
  await when.getByLabel("About then: the time is not exact").check();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Your incident is saved.")).toBeVisible();
  const { items } = await apiGet<{ items: { occurred_at: string; time_is_approximate: boolean; description: string }[] }>(page, "/incidents");
  const saved = items.find((item) => item.description === "He was at the bus stop again");
  expect(Date.parse(saved!.occurred_at)).toBe(Date.parse("2025-11-20T21:40:00+00:00"));
  expect(saved!.time_is_approximate).toBe(true);

  // 200 % zoom of a 360×740 phone: the day and the time one under the other, nothing sideways.
  const zoomed = await browser.newContext({ baseURL: process.env.E2E_BASE_URL, viewport: { width: 180, height: 370 }, hasTouch: true });
  const small = await zoomed.newPage();
  await register(small);
  await small.getByRole("button", { name: "Log something" }).click();
  const group = small.getByRole("group", { name: "When did it happen?" });
  await group.getByRole("button", { name: "Change the day or time" }).click();
  const [smallDay, smallTime] = [await group.getByLabel("Day", { exact: true }).boundingBox(), await group.getByLabel("Time", { exact: true }).boundingBox()];
  expect(smallTime!.y).toBeGreaterThanOrEqual(smallDay!.y + smallDay!.height);
  for (const box of [smallDay!, smallTime!]) expect(box.x + box.width).toBeLessThanOrEqual(180);
  expect(await small.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
  await zoomed.close();
});
