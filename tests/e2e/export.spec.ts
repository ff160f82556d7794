// The victim's own evidence pack downloads with progress and verifies with `waymark verify-pack`.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, jpeg, register, ROOT, test } from "./support";

test("the evidence pack downloads and verifies", async ({ page }) => {
  const folder = mkdtempSync(join(tmpdir(), "waymark-e2e-pack-"));
  try {
    await register(page);
    await page.getByRole("button", { name: "Log something" }).click();
    await page.getByLabel("What happened").fill("A parcel with my old photos in it arrived at work.");
    await page.getByText("Gifts or items").click();
    await page.getByText("Add more detail").click();
    await page.locator("#incident-files").setInputFiles({ name: "parcel.jpg", mimeType: "image/jpeg", buffer: await jpeg(page) });
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("button", { name: "Done" }).click();
    await expect(page.getByRole("list", { name: "Recent" })).toContainText("parcel.jpg");

    await page.getByRole("button", { name: "Police report" }).click();
    await page.getByLabel("Crime reference number").fill("CR/777/26");
    await page.getByText("In person", { exact: true }).click();
    await page.locator(".check-row").first().click();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("button", { name: "Done" }).click();

    await page.getByRole("button", { name: "Evidence pack" }).click();
    await page.getByLabel("Only this crime reference (optional)").fill("CR/777/26");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download the pack" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^waymark-evidence-pack-.*\.zip$/);
    const pack = join(folder, download.suggestedFilename());
    await download.saveAs(pack);
    await expect(page.getByText(/Your pack is downloaded as/)).toBeVisible();

    const report = execFileSync(join(ROOT, ".venv", "bin", "waymark"), ["verify-pack", pack], { encoding: "utf8" });
    expect(report.length).toBeGreaterThan(0);
    const listing = execFileSync("python3", ["-c", "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))", pack], {
      encoding: "utf8",
    });
    expect(listing).toContain("timeline.pdf");
    expect(listing).toMatch(/evidence\/[A-Z]{1,4}-1-.*parcel\.jpg/);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
