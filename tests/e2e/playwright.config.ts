import { defineConfig } from "@playwright/test";

// Debian's Chromium, never a downloaded browser; the flags keep it quiet and offline-friendly.
export const CHROMIUM = process.env.E2E_CHROMIUM ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  globalSetup: "./global-setup.ts",
  globalTeardown: "./global-teardown.ts",
  // Two cores: one browser at a time keeps the server and the machine responsive.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 180_000,
  // Generous: CI machines are small and often busy with other work.
  expect: { timeout: 20_000 },
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 1,
    isMobile: false,
    hasTouch: true,
    locale: "en-GB",
    timezoneId: "Europe/London",
    serviceWorkers: "allow",
    acceptDownloads: true,
    actionTimeout: 30_000,
    navigationTimeout: 60_000,
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
