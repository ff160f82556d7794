// Every screen at 360×740: axe finds no serious or critical problems, nothing scrolls sideways,
// and the main screens are photographed for docs/screenshots.

import { advocate, expect, expectAccessible, newAccount, register, screenshot, signIn, test } from "./support";

test("the victim's screens are accessible and fit a small phone", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expectAccessible(page, "sign in");
  await screenshot(page, "01-sign-in");

  await page.getByRole("button", { name: "Make an account" }).click();
  await expect(page.getByRole("heading", { name: "Make an account" })).toBeVisible();
  await expectAccessible(page, "sign up");

  await page.getByRole("button", { name: "I already have an account" }).click();
  const account = await register(page, newAccount("Sam"));
  await expectAccessible(page, "home (empty)");

  // Quick log, with the details open.
  await page.getByRole("button", { name: "Log something" }).click();
  await expect(page.getByRole("heading", { name: "What happened?" })).toBeVisible();
  await page.getByLabel("What happened").fill("His car was parked across the road for an hour. He watched the front door.");
  await page.getByText("Watching me").click();
  await page.getByText("Turning up").click();
  await expectAccessible(page, "quick log");
  await screenshot(page, "03-quick-log");
  await page.getByText("Add more detail").click();
  await page.getByLabel("Where").fill("Outside home, Station Road");
  await expectAccessible(page, "quick log with details");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Saved" })).toBeVisible();
  await expect(page.getByText("Your incident is saved.")).toBeVisible();
  await expectAccessible(page, "saved");

  await page.getByRole("button", { name: "Add more detail" }).click();
  await expect(page.getByRole("heading", { name: "Add more detail" })).toBeVisible();
  await page.getByLabel("How it made you feel").fill("Frightened. I did not go out.");
  await expectAccessible(page, "add more detail");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("heading", { name: "Changes saved" })).toBeVisible();

  await page.getByRole("button", { name: "Done" }).click();
  await page.getByRole("button", { name: "How it is affecting me" }).click();
  await page.getByText("Sleep", { exact: true }).click();
  await page.getByText("Changing my routine").click();
  await page.getByLabel("What has changed for you").fill("I wake at every car that passes. I now take a different way to work.");
  await expectAccessible(page, "impact note");
  await screenshot(page, "04-impact-note");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Saved" })).toBeVisible();

  await page.getByRole("button", { name: "Done" }).click();
  await page.getByRole("button", { name: "Police report" }).click();
  await page.getByLabel("Crime reference number").fill("CR/123456/26");
  await page.getByText("101", { exact: true }).click();
  await page.getByLabel("Police force").fill("Dyfed-Powys Police");
  await page.locator(".check-row").first().click();
  await expectAccessible(page, "police report");
  await screenshot(page, "05-police-report");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Saved" })).toBeVisible();

  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("list", { name: "Recent" }).getByRole("listitem")).toHaveCount(3);
  await expectAccessible(page, "home");
  await screenshot(page, "02-home");

  await page.getByRole("button", { name: "Everything so far" }).click();
  await expect(page.getByRole("list", { name: "Timeline" }).getByRole("listitem")).toHaveCount(3);
  await page.getByText("Filters", { exact: true }).click();
  await expectAccessible(page, "timeline with filters");
  await page.getByText("Filters", { exact: true }).click();
  await screenshot(page, "06-timeline");
  await page.getByRole("searchbox", { name: "Search" }).fill("parked");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page.getByRole("list", { name: "Timeline" }).getByRole("listitem")).toHaveCount(1);

  await page.getByRole("list", { name: "Timeline" }).getByRole("button").first().click();
  await expect(page.getByRole("heading", { name: "Incident" })).toBeVisible();
  await expect(page.getByText("CR/123456/26")).toBeVisible();
  await expect(page.getByText("Version 2")).toBeVisible();
  await expectAccessible(page, "incident detail");
  await screenshot(page, "07-incident");

  // The other kinds of record, and changing them.
  await page.getByRole("button", { name: "Back to the timeline" }).click();
  await page.getByRole("button", { name: /Reported to police/ }).click();
  await expect(page.getByRole("heading", { name: "Police report" })).toBeVisible();
  await expect(page.getByText("Dyfed-Powys Police")).toBeVisible();
  await expectAccessible(page, "police report detail");
  await page.getByRole("button", { name: "Change it" }).click();
  await expect(page.getByRole("heading", { name: "Change this police report" })).toBeVisible();
  await expect(page.getByLabel("Crime reference number")).toHaveValue("CR/123456/26");
  await expectAccessible(page, "change a police report");
  await page.getByRole("button", { name: "Notes – home" }).click();
  await page.getByRole("button", { name: "Everything so far" }).click();
  await page.getByRole("button", { name: /How it is affecting me: I wake/ }).click();
  await expect(page.getByRole("heading", { name: "Impact note" })).toBeVisible();
  await expectAccessible(page, "impact note detail");
  await page.getByRole("button", { name: "Change it" }).click();
  await expect(page.getByRole("heading", { name: "Change this note" })).toBeVisible();
  await expectAccessible(page, "change an impact note");
  await page.getByRole("button", { name: "Notes – home" }).click();
  await page.getByRole("button", { name: "Everything so far" }).click();
  await page.getByRole("button", { name: /His car was parked/ }).click();
  await page.getByRole("button", { name: "Add photos or files" }).click();
  await expect(page.getByRole("heading", { name: "Add photos or files" })).toBeVisible();
  await expectAccessible(page, "add evidence");

  await page.getByRole("button", { name: "Notes – home" }).click();
  await page.getByRole("button", { name: "Share with an advocate" }).click();
  await expectAccessible(page, "sharing");

  await page.getByRole("button", { name: "Notes – home" }).click();
  await page.getByRole("button", { name: "Evidence pack" }).click();
  await expectAccessible(page, "export");
  await screenshot(page, "11-export");

  await page.getByRole("button", { name: "Notes – home" }).click();
  await page.getByRole("button", { name: "Account and safety" }).click();
  await expect(page.getByText("(this device)")).toBeVisible();
  await expectAccessible(page, "account");
  await screenshot(page, "12-account");
  await page.getByRole("button", { name: "Erase my account…" }).click();
  await expectAccessible(page, "account, erase open");
  expect(account.email).toContain("@");
});

test("the advocate's screens are accessible too", async ({ page }) => {
  await signIn(page, advocate);
  await expect(page.getByRole("heading", { name: "Your cases" })).toBeVisible();
  await expectAccessible(page, "caseload");
  await page.getByRole("button", { name: "Get a code" }).click();
  await expect(page.locator(".code")).toBeVisible();
  await expectAccessible(page, "caseload with a code");
});

test.describe("in dark mode", () => {
  test.use({ colorScheme: "dark" });

  test("the main screens keep their contrast", async ({ page }) => {
    await page.goto("/");
    await expectAccessible(page, "sign in, dark");
    await register(page, newAccount("Alex"));
    await page.getByRole("button", { name: "Log something" }).click();
    await page.getByLabel("What happened").fill("A message from a new account again.");
    await page.getByText("Contacting me").click();
    await page.getByText("Add more detail").click();
    await expectAccessible(page, "quick log, dark");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("button", { name: "Done" }).click();
    await expect(page.getByRole("list", { name: "Recent" }).getByRole("listitem")).toHaveCount(1);
    await expectAccessible(page, "home, dark");
    await screenshot(page, "15-home-dark");
    await page.getByRole("button", { name: "Account and safety" }).click();
    await page.getByRole("button", { name: "Erase my account…" }).click();
    await expectAccessible(page, "account, dark");
  });
});

test("at 200% zoom (180 px of layout) nothing scrolls sideways", async ({ page }) => {
  await page.setViewportSize({ width: 180, height: 370 });
  await page.goto("/");
  await expectAccessible(page, "sign in at 200%");
  await register(page, newAccount("Kim"));
  await expectAccessible(page, "home at 200%");
  await page.getByRole("button", { name: "Log something" }).click();
  await page.getByText("Add more detail").click();
  await expectAccessible(page, "quick log at 200%");
});
