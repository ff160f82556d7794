// Leaving fast, signing out completely, and signing out by itself.

import { expect, register, serviceWorkerReady, signIn, test } from "./support";
import type { Page } from "@playwright/test";

const NEUTRAL = "https://www.bbc.co.uk/weather";

async function neutralSiteStandsIn(page: Page): Promise<void> {
  // The test machine has no internet: answer for the neutral site.
  await page.context().route("https://www.bbc.co.uk/**", (route) =>
    route.fulfill({ contentType: "text/html", body: "<title>Weather</title><h1>Weather</h1>" }),
  );
}

test("Esc leaves at once, and Back does not return to the app", async ({ page, baseURL }) => {
  await neutralSiteStandsIn(page);
  await register(page);
  await page.getByRole("button", { name: "Log something" }).click();
  await page.getByLabel("What happened").fill("Half-written");
  await page.keyboard.press("Escape");
  await page.waitForURL(NEUTRAL);
  await page.goBack().catch(() => null);
  expect(page.url().startsWith(baseURL!)).toBe(false);
});

test("the Quick exit button leaves from every screen, signed in or not", async ({ page, baseURL }) => {
  await neutralSiteStandsIn(page);
  await page.goto("/");
  await page.getByRole("button", { name: "Quick exit" }).click();
  await page.waitForURL(NEUTRAL);

  await register(page);
  await page.getByRole("button", { name: "Everything so far" }).click();
  await page.getByRole("button", { name: "Quick exit" }).click();
  await page.waitForURL(NEUTRAL);
  await page.goBack().catch(() => null);
  expect(page.url().startsWith(baseURL!)).toBe(false);
});

test("signing out clears the outbox, the caches and the session", async ({ page }) => {
  const account = await register(page);
  await serviceWorkerReady(page);
  await page.evaluate(async () => {
    const cache = await caches.open("left-behind");
    await cache.put("/marker", new Response("marker"));
  });
  expect(await page.evaluate(() => caches.keys())).toContain("left-behind");

  // Something that has not been sent yet (the server is unreachable for it).
  await page.route("**/api/v1/incidents", (route) => route.abort("internetdisconnected"));
  await page.getByRole("button", { name: "Log something" }).click();
  await page.getByLabel("What happened").fill("Not sent yet");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("list", { name: "Waiting to be sent" }).getByRole("listitem")).toHaveCount(1);

  await page.getByRole("button", { name: "Account and safety" }).click();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page.getByText("1 thing on this phone has not been sent yet.")).toBeVisible();
  await page.getByRole("button", { name: "Sign out anyway" }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();

  const left = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((done, fail) => {
      const open = indexedDB.open("notes");
      open.onsuccess = () => done(open.result);
      open.onerror = () => fail(open.error);
    });
    const count = (store: string) =>
      new Promise<number>((done) => {
        const request = db.transaction(store).objectStore(store).count();
        request.onsuccess = () => done(request.result);
      });
    const cached: string[] = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) cached.push(request.url);
    }
    return {
      outbox: await count("outbox"),
      uploads: await count("uploads"),
      caches: await caches.keys(),
      cached,
      local: localStorage.length,
    };
  });
  expect(left.outbox).toBe(0);
  expect(left.uploads).toBe(0);
  expect(left.caches).not.toContain("left-behind");
  expect(left.cached.filter((url) => url.includes("/api/"))).toEqual([]);
  expect(left.local).toBe(0);
  expect((await page.request.get("/api/v1/auth/me")).status()).toBe(401);

  // Signing in again finds nothing left over from before.
  await page.unroute("**/api/v1/incidents");
  await signIn(page, account);
  await expect(page.getByRole("heading", { name: `Hello, ${account.name}` })).toBeVisible();
  await expect(page.getByRole("list", { name: "Waiting to be sent" })).toHaveCount(0);
  await expect(page.getByText("Nothing logged yet.")).toBeVisible();
});

test("the app signs itself out when left alone, and never asks to send notifications", async ({ page }) => {
  await page.clock.install();
  await register(page);
  await page.getByRole("button", { name: "Everything so far" }).click();
  // The idle watch starts once the session has begun, which on a busy machine can be after the
  // click: jump again until it has seen ten idle minutes (longer idle is still idle).
  await expect(async () => {
    await page.clock.fastForward("11:00");
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  await expect(page.getByText("You were signed out because the app was not used for a while.")).toBeVisible();
  expect((await page.request.get("/api/v1/auth/me")).status()).toBe(401);
  expect(await page.evaluate(() => Notification.permission)).toBe("default");
});
