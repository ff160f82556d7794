// What every end-to-end test shares: the server's address, fresh accounts, axe, screenshots.

import { expect, test as base, type Locator, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(__dirname, "..", "..");
export const SCREENSHOTS = join(ROOT, "docs", "screenshots");
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

let accounts = 0;

export interface Account {
  email: string;
  password: string;
  name: string;
}

export function newAccount(name = "Sam"): Account {
  accounts += 1;
  return {
    email: `${name.toLowerCase()}.${Date.now()}.${accounts}@example.org`,
    password: "harbour lantern violet meadow",
    name,
  };
}

export const advocate: Account = {
  get email() {
    return process.env.E2E_ADVOCATE_EMAIL!;
  },
  get password() {
    return process.env.E2E_ADVOCATE_PASSWORD!;
  },
  name: "Jo Advocate",
};

export const test = base.extend<{ problems: string[] }>({
  baseURL: async ({}, use) => {
    await use(process.env.E2E_BASE_URL);
  },
  // Anything the CSP refused, and any uncaught error, fails the test that caused it.
  problems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on("console", (message) => {
        const text = message.text();
        if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
      });
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      await use(problems);
      expect(problems, "CSP violations or page errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Register through the app's own screens and land on the home screen. */
export async function register(page: Page, account: Account = newAccount()): Promise<Account> {
  await page.goto("/");
  await page.getByRole("button", { name: "Make an account" }).click();
  await page.getByLabel("Your name").fill(account.name);
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Make my account" }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Hello, ${account.name}` })).toBeVisible();
  return account;
}

export async function signIn(page: Page, account: Account): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** Wait until the service worker controls the page, so the app opens offline. */
export async function serviceWorkerReady(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise<void>((done) => navigator.serviceWorker.addEventListener("controllerchange", () => done(), { once: true }));
    }
  });
}

/** The session's proof the app keeps in IndexedDB (null when signed out on this phone). */
export async function sessionProof(page: Page): Promise<string | null> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((done, fail) => {
      const open = indexedDB.open("notes-keys");
      open.onsuccess = () => done(open.result);
      open.onerror = () => fail(open.error);
    });
    if (!db.objectStoreNames.contains("keys")) return null;
    const held = await new Promise<{ proof?: string } | undefined>((done) => {
      const request = db.transaction("keys").objectStore("keys").get("session");
      request.onsuccess = () => done(request.result as { proof?: string } | undefined);
    });
    db.close();
    return held?.proof ?? null;
  });
}

/** Everything the API holds for the signed-in user, as the app asks: cookie and proof. */
export async function apiGet<T>(page: Page, path: string): Promise<T> {
  const proof = await sessionProof(page);
  const response = await page.request.get(`/api/v1${path}`, { headers: proof ? { "Session-Proof": proof } : {} });
  expect(response.ok(), `GET ${path}: ${response.status()}`).toBe(true);
  return (await response.json()) as T;
}

/** axe-core on the current screen: no serious or critical violations. */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  // Evaluated through DevTools, which the page's CSP does not govern (a script tag would be refused).
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const results = await axe.run(document, { resultTypes: ["violations"] });
    return results.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
  });
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(serious, `axe on ${screen}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
  // Every control is a 44 px target (checkboxes and radios through their 44 px labels).
  const small = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>("button, a.button, a.call, input:not([type=checkbox]):not([type=radio]), select, textarea, summary, label.chip, .check-row, .check label")]
      .filter((element) => element.offsetParent !== null && !element.closest(".visually-hidden"))
      .map((element) => ({ element, box: element.getBoundingClientRect() }))
      .filter(({ element, box }) => box.height < 44 || (element.matches("button, a.button, a.call") && box.width < 44))
      .map(({ element, box }) => `${element.tagName.toLowerCase()} "${(element.textContent ?? "").trim().slice(0, 30)}" ${Math.round(box.width)}×${Math.round(box.height)}`),
  );
  expect(small, `${screen}: targets smaller than 44 px`).toEqual([]);
  // Nothing wider than the screen: no sideways scrolling at 360 px.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${screen} scrolls sideways`).toBeLessThanOrEqual(0);
}

/** A picture of the screen at 360×740, from the top or from `at`. */
export async function screenshot(page: Page, name: string, at?: Locator): Promise<void> {
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  if (at) await at.evaluate((element) => element.scrollIntoView({ block: "center" }));
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), animations: "disabled", caret: "hide" });
}

/** An MP4 the server accepts (a real ftyp box, then an mdat box) of the given size. */
export function mp4(bytes: number): Buffer {
  const ftyp = Buffer.from([0, 0, 0, 24, ...Buffer.from("ftypisom"), 0, 0, 2, 0, ...Buffer.from("isommp41")]);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(bytes - ftyp.length, 0);
  header.write("mdat", 4, "ascii");
  const body = Buffer.alloc(bytes - ftyp.length - header.length);
  for (let i = 0; i < body.length; i += 4096) body[i] = (i / 4096) % 251; // not all zeros
  return Buffer.concat([ftyp, header, body]);
}

/** A real JPEG, drawn by the browser. */
export async function jpeg(page: Page): Promise<Buffer> {
  const dataUrl = await page.evaluate(() => {
    const canvas = document.createElement("canvas");
    canvas.width = 320;
    canvas.height = 240;
    const context = canvas.getContext("2d")!;
    context.fillStyle = "#3a6";
    context.fillRect(0, 0, 320, 240);
    context.fillStyle = "#fff";
    context.fillRect(100, 60, 120, 120);
    return canvas.toDataURL("image/jpeg", 0.9);
  });
  return Buffer.from(dataUrl.split(",")[1], "base64");
}
