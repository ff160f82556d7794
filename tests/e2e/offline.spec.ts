// The heart of it: log in seconds, keep logging offline, and every record reaches the server
// exactly once when the connection returns.

import { apiGet, expect, register, screenshot, serviceWorkerReady, test } from "./support";
import type { Page } from "@playwright/test";

interface Incident {
  id: string;
  description: string;
  behaviours: string[];
}

/** Counts taps (pointer presses), so the quick log can be held to three. Typing is free. */
async function countInteractions(page: Page): Promise<() => Promise<number>> {
  await page.evaluate(() => {
    (window as unknown as { taps: number }).taps = 0;
    document.addEventListener("pointerdown", (event) => {
      if (event.isTrusted) (window as unknown as { taps: number }).taps += 1;
    }, true);
  });
  return () => page.evaluate(() => (window as unknown as { taps: number }).taps);
}

test("quick log, then offline logging that syncs exactly once", async ({ page, context }) => {
  await register(page);
  await serviceWorkerReady(page);

  // From the home screen to a saved incident: three taps and some typing.
  const taps = await countInteractions(page);
  await page.getByRole("button", { name: "Log something" }).click(); // 1
  await page.getByLabel("What happened").fill("Followed me from the bus stop to the shop.");
  await page.getByText("Following me").click(); // 2
  await page.getByRole("button", { name: "Save", exact: true }).click(); // 3
  await expect(page.getByText("Your incident is saved.")).toBeVisible();
  expect(await taps()).toBeLessThanOrEqual(3);

  // Offline: the next incident waits on the phone.
  await context.setOffline(true);
  await page.getByRole("button", { name: "Log something else" }).click();
  await page.getByLabel("What happened").fill("Three silent calls after midnight.");
  await page.getByText("Contacting me").click();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("It will be sent as soon as there is a connection.")).toBeVisible();

  // A reload offline: the app opens from the service worker and still shows what is waiting.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Saved" })).toBeVisible();
  await page.getByRole("button", { name: "Done" }).click();
  const waiting = page.getByRole("list", { name: "Waiting to be sent" });
  await expect(waiting.getByRole("listitem")).toHaveCount(1);
  await expect(waiting).toContainText("Three silent calls after midnight.");
  await expect(page.getByText("You are offline.")).toBeVisible();
  await expect(page.getByText("1 thing waiting to be sent.")).toBeVisible();
  await screenshot(page, "08-offline");

  // Back online: it is sent, and nothing is left waiting.
  await context.setOffline(false);
  await expect(waiting).toHaveCount(0);
  await expect(page.getByRole("list", { name: "Recent" }).getByRole("listitem")).toHaveCount(2);

  const { items } = await apiGet<{ items: Incident[] }>(page, "/incidents?limit=200");
  expect(items.map((i) => i.description).sort()).toEqual([
    "Followed me from the bus stop to the shop.",
    "Three silent calls after midnight.",
  ]);
  expect(new Set(items.map((i) => i.id)).size).toBe(2);
  expect(items.find((i) => i.description.startsWith("Three"))?.behaviours).toEqual(["contacting"]);

  // A reload online sends nothing again.
  await page.reload();
  await expect(page.getByRole("list", { name: "Recent" }).getByRole("listitem")).toHaveCount(2);
  const again = await apiGet<{ items: Incident[] }>(page, "/incidents?limit=200");
  expect(again.items).toHaveLength(2);
});

test("impact notes and police reports made offline sync too, linked to an offline incident", async ({ page, context }) => {
  await register(page);
  await serviceWorkerReady(page);
  await context.setOffline(true);

  await page.getByRole("button", { name: "Log something" }).click();
  await page.getByLabel("What happened").fill("Flowers left on the doorstep with a note.");
  await page.getByText("Gifts or items").click();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("button", { name: "Done" }).click();

  await page.getByRole("button", { name: "How it is affecting me" }).click();
  await page.getByText("Feeling safe at home").click();
  await page.getByLabel("What has changed for you").fill("I have had the locks changed.");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("button", { name: "Done" }).click();

  await page.getByRole("button", { name: "Police report" }).click();
  await page.getByLabel("Crime reference number").fill("CR/555/26");
  await page.getByText("Online", { exact: true }).click();
  await expect(page.getByText("only incidents on this phone are listed")).toBeVisible();
  await page.locator(".check-row").first().click();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("button", { name: "Done" }).click();

  await expect(page.getByRole("list", { name: "Waiting to be sent" }).getByRole("listitem")).toHaveCount(3);
  await context.setOffline(false);
  await expect(page.getByRole("list", { name: "Waiting to be sent" })).toHaveCount(0);

  const incidents = await apiGet<{ items: (Incident & { crime_references: string[] })[] }>(page, "/incidents");
  expect(incidents.items).toHaveLength(1);
  expect(incidents.items[0].crime_references).toEqual(["CR/555/26"]);
  const notes = await apiGet<{ items: unknown[] }>(page, "/impact-notes");
  expect(notes.items).toHaveLength(1);
  const reports = await apiGet<{ items: { incident_ids: string[] }[] }>(page, "/police-reports");
  expect(reports.items).toHaveLength(1);
  expect(reports.items[0].incident_ids).toEqual([incidents.items[0].id]);
});
