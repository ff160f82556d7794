// An advocate's code, redeemed by the victim; the advocate reads the timeline and writes a note;
// the victim reads the note; the advocate's evidence pack verifies; taking access back works.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "@playwright/test";
import { apiGet, advocate, expect, expectAccessible, jpeg, register, ROOT, screenshot, signIn, test } from "./support";

async function newPhone(browser: Browser): Promise<Page> {
  const context = await browser.newContext({
    baseURL: process.env.E2E_BASE_URL,
    viewport: { width: 360, height: 740 },
    locale: "en-GB",
    timezoneId: "Europe/London",
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => {
    throw error;
  });
  return page;
}

test("redeem an advocate's code; the advocate reads, notes and exports; the victim sees the note", async ({ page, browser }) => {
  // The advocate makes a code.
  const desk = await newPhone(browser);
  await signIn(desk, advocate);
  await expect(desk.getByRole("heading", { name: "Your cases" })).toBeVisible();
  await desk.getByRole("button", { name: "Get a code" }).click();
  const code = (await desk.locator(".code").textContent())!.trim();
  expect(code.length).toBeGreaterThan(6);

  // The victim logs something and shares with that code.
  const victim = await register(page);
  await page.getByRole("button", { name: "Log something" }).click();
  await page.getByLabel("What happened").fill("He was waiting outside my work at 5pm.");
  await page.getByText("Turning up").click();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("button", { name: "Add photos or files to it" }).click();
  await page.locator("#choose").setInputFiles({ name: "outside-work.jpg", mimeType: "image/jpeg", buffer: await jpeg(page) });
  await expect(page.locator(".upload", { hasText: "outside-work.jpg" }).locator(".upload-status")).toHaveText("Saved on the server");
  await page.getByRole("button", { name: "Notes – home" }).click();
  await page.getByRole("button", { name: "Share with an advocate" }).click();
  await page.getByLabel("The code your advocate gave you").fill(code);
  await page.getByText("They may make an evidence pack for the police").click();
  await page.getByRole("button", { name: "Share", exact: true }).click();
  await expect(page.getByText("Jo Advocate can now see your notes.")).toBeVisible();
  await expect(page.getByText("last looked never")).toBeVisible();

  // The advocate sees the case and its timeline, and opens the incident.
  await desk.getByRole("button", { name: "Notes – home" }).click();
  await desk.getByRole("button", { name: new RegExp(victim.name) }).click();
  await expect(desk.getByRole("heading", { name: victim.name })).toBeVisible();
  const timeline = desk.getByRole("list", { name: "Timeline" });
  await expect(timeline).toContainText("He was waiting outside my work at 5pm.");
  await expectAccessible(desk, "case timeline");
  await screenshot(desk, "13-advocate-case");
  await timeline.getByRole("button", { name: /He was waiting outside my work/ }).click();
  await expect(desk.getByRole("heading", { name: "Incident" })).toBeVisible();
  await expect(desk.getByText("Turning up")).toBeVisible();
  await expectAccessible(desk, "case incident");
  await desk.getByRole("button", { name: /outside-work\.jpg/ }).click();
  await expect(desk.getByRole("heading", { name: "Evidence" })).toBeVisible();
  // The original comes through the case (fetched with the session's proof, then saved).
  const original = desk.waitForRequest(/\/api\/v1\/cases\/.+\/evidence\/.+\/content$/);
  const saved = desk.waitForEvent("download");
  await desk.getByRole("button", { name: "Download the original" }).click();
  await original;
  expect((await saved).suggestedFilename()).toBe("outside-work.jpg");
  await expectAccessible(desk, "case evidence");
  await desk.getByRole("button", { name: "Back to the timeline" }).click();

  // A note for the victim.
  await desk.getByRole("button", { name: "Notes", exact: true }).click();
  await desk.getByLabel("Add a note").fill("Spoke to the officer in charge; they will call you on Monday.");
  await desk.getByRole("button", { name: "Add note" }).click();
  await expect(desk.getByText("Note added.")).toBeVisible();
  await expectAccessible(desk, "case notes");

  // The advocate's evidence pack verifies.
  const folder = mkdtempSync(join(tmpdir(), "waymark-e2e-pack-"));
  try {
    await desk.getByRole("button", { name: "Evidence pack" }).click();
    await expectAccessible(desk, "case export");
    const [download] = await Promise.all([desk.waitForEvent("download"), desk.getByRole("button", { name: "Download the pack" }).click()]);
    const pack = join(folder, download.suggestedFilename());
    await download.saveAs(pack);
    execFileSync(join(ROOT, ".venv", "bin", "waymark"), ["verify-pack", pack], { encoding: "utf8" });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }

  // The victim sees the note on their timeline, and when the advocate last looked.
  await page.getByRole("button", { name: "Notes – home" }).click();
  await page.getByRole("button", { name: "Everything so far" }).click();
  await expect(page.getByRole("list", { name: "Timeline" })).toContainText("Spoke to the officer in charge; they will call you on Monday.");
  await expect(page.getByRole("list", { name: "Timeline" })).toContainText("From Jo Advocate");
  await page.getByRole("button", { name: "Notes – home" }).click();
  await page.getByRole("button", { name: "Share with an advocate" }).click();
  await expect(page.getByText(/last looked just now/)).toBeVisible();
  await expectAccessible(page, "sharing with an advocate");
  await screenshot(page, "14-sharing");

  // Taking access back works at once.
  await page.getByRole("button", { name: "Stop sharing with Jo Advocate" }).click();
  await page.getByRole("button", { name: "Yes, stop sharing" }).click();
  await expect(page.getByText("Nobody. Your notes are private to you.")).toBeVisible();
  const cases = await apiGet<{ items: unknown[] }>(desk, "/cases");
  expect(cases.items).toHaveLength(0);
  await desk.context().close();
});
