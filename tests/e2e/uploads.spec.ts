// Evidence from the phone: a photo, and a 50 MB video that is paused, resumed, and carries on
// after a reload from where it stopped. The SHA-256 the phone computed must match the server's.

import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiGet, expect, expectAccessible, jpeg, mp4, register, screenshot, test } from "./support";

interface Evidence {
  id: string;
  original_filename: string;
  media_type: string;
  size: number;
  sha256: string;
  client_sha256_matches: boolean | null;
  has_thumbnail: boolean;
  incident_ids: string[];
}

const VIDEO_BYTES = 50 * 1024 * 1024;

test("a photo and a 50 MB video upload with progress, pause, resume and a reload", async ({ page }) => {
  const folder = mkdtempSync(join(tmpdir(), "waymark-e2e-files-"));
  try {
    await register(page);
    await page.getByRole("button", { name: "Add photos or files" }).click();

    // A photo, described.
    const photo = await jpeg(page);
    await page.getByLabel("What does it show? (optional)").fill("Note left under the wiper");
    await page.locator("#choose").setInputFiles({ name: "windscreen.jpg", mimeType: "image/jpeg", buffer: photo });
    const photoRow = page.locator(".upload", { hasText: "windscreen.jpg" });
    await expect(photoRow.locator(".upload-status")).toHaveText("Saved on the server");

    // A video, slowed down so it can be interrupted: each 4 MiB chunk takes a moment.
    const video = mp4(VIDEO_BYTES);
    const videoPath = join(folder, "doorbell.mp4");
    writeFileSync(videoPath, video);
    const offsets: number[] = [];
    /** What the server said it holds, answer by answer (HEAD and PATCH). */
    const confirmed: number[] = [];
    let creates = 0;
    page.on("request", (request) => {
      if (!request.url().includes("/api/v1/uploads")) return;
      if (request.method() === "POST") creates += 1;
      if (request.method() === "PATCH") offsets.push(Number(request.headers()["upload-offset"]));
    });
    page.on("response", (response) => {
      const offset = response.headers()["upload-offset"];
      if (response.url().includes("/api/v1/uploads/") && response.ok() && offset) confirmed.push(Number(offset));
    });
    await page.route("**/api/v1/uploads/**", async (route) => {
      if (route.request().method() === "PATCH") await new Promise((wait) => setTimeout(wait, 700));
      await route.continue();
    });

    await page.locator("#choose").setInputFiles(videoPath);
    const videoRow = page.locator(".upload", { hasText: "doorbell.mp4" });
    await expect(videoRow.locator(".upload-status")).toHaveText(/^Sending – [1-9]\d?% on the server \([\d.]+ MB of 52 MB\)$/, {
      timeout: 60_000,
    });
    const bar = videoRow.getByRole("progressbar");
    await expect(bar).toBeVisible();
    // The bar is what the server confirmed, never merely what left the phone.
    await expect.poll(async () => confirmed.includes(Number(await bar.getAttribute("value")))).toBe(true);
    await screenshot(page, "09-evidence-upload", page.getByRole("heading", { name: "Files", exact: true }));

    // Pause, then resume: it carries on from the server's offset, not from the start.
    await videoRow.getByRole("button", { name: "Pause doorbell.mp4" }).click();
    await expect(videoRow.locator(".upload-status")).toHaveText(/^Paused – [\d.]+ MB of 52 MB on the server$/);
    expect(confirmed).toContain(Number(await bar.getAttribute("value")));
    const pausedAt = Math.max(...offsets);
    await videoRow.getByRole("button", { name: "Resume doorbell.mp4" }).click();
    await expect(videoRow.locator(".upload-status")).toHaveText(/^Sending/);
    // Resuming says so, with what the server already had (its answer to tus's HEAD).
    await expect(videoRow.locator(".upload-note")).toHaveText(/^Carrying on from [\d.]+ MB that was already on the server\.$/);
    await expect.poll(() => Math.max(...offsets), { timeout: 30_000 }).toBeGreaterThan(pausedAt);

    // The signal drops: what the server holds is still shown, not 0 %, and it carries on.
    await page.context().setOffline(true);
    await expect(videoRow.locator(".upload-status")).toHaveText(/^Waiting to send the rest – [1-9][\d.]* MB of 52 MB on the server$/);
    await expect(videoRow.locator(".upload-note")).toHaveText("It carries on from there, not from the start.");
    await page.context().setOffline(false);
    await expect(videoRow.locator(".upload-status")).toHaveText(/^Sending/);

    // A reload in the middle (the app closed, the phone restarted): it resumes by itself.
    await expect.poll(() => offsets.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(5);
    await page.reload();
    await page.route("**/api/v1/uploads/**", async (route) => {
      if (route.request().method() === "PATCH") await new Promise((wait) => setTimeout(wait, 200));
      await route.continue();
    });
    const afterReload = page.locator(".upload", { hasText: "doorbell.mp4" });
    await expect(afterReload.locator(".upload-note")).toHaveText(/^Carrying on from [1-9][\d.]* MB that was already on the server\.$/);
    await expect(afterReload.locator(".upload-status")).toHaveText("Saved on the server", { timeout: 120_000 });

    // Never restarted from zero, never a second upload.
    expect(offsets.filter((offset) => offset === 0)).toHaveLength(1);
    expect(creates).toBe(1);
    expect(offsets.length).toBeGreaterThan(VIDEO_BYTES / (4 * 1024 * 1024));

    const { items } = await apiGet<{ items: Evidence[] }>(page, "/evidence");
    expect(items).toHaveLength(2);
    const kept = Object.fromEntries(items.map((item) => [item.original_filename, item]));
    expect(kept["windscreen.jpg"]).toMatchObject({
      media_type: "image/jpeg",
      size: photo.length,
      sha256: createHash("sha256").update(photo).digest("hex"),
      client_sha256_matches: true,
      has_thumbnail: true,
    });
    expect(kept["doorbell.mp4"]).toMatchObject({
      media_type: "video/mp4",
      size: VIDEO_BYTES,
      sha256: createHash("sha256").update(video).digest("hex"),
      client_sha256_matches: true,
    });

    // Saved files are not "waiting" anywhere: the home screen lists them under Recent only.
    await page.getByRole("button", { name: "Notes – home" }).click();
    await expect(page.getByRole("list", { name: "Recent" })).toContainText("doorbell.mp4");
    await expect(page.getByRole("heading", { name: "Waiting to be sent" })).toHaveCount(0);
    await page.getByRole("button", { name: "Add photos or files" }).click();

        // Open the video: the hashes are shown, and the check from the phone matched.
    await afterReload.getByRole("button", { name: "Open doorbell.mp4" }).click();
    await expect(page.getByText("Yes: the phone's check and the server's match")).toBeVisible();
    await expectAccessible(page, "evidence detail");

    // The photo, with its preview, from the timeline.
    await page.getByRole("button", { name: "Back to the timeline" }).click();
    await page.getByRole("button", { name: /windscreen\.jpg/ }).click();
    await expect(page.getByRole("img", { name: "Preview of windscreen.jpg" })).toBeVisible();
    await expectAccessible(page, "photo detail");
    await screenshot(page, "10-evidence-detail");
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
