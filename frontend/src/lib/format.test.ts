import { describe, expect, it } from "vitest";
import { countOf, formatAgo, formatBytes, formatPercent, formatWhen, localInputToIso, toLocalInput, toOffsetIso } from "./format";

// Run with TZ=Europe/London (npm test sets it): GMT in winter, BST (+01:00) in summer.

describe("times sent to the API", () => {
  it("keeps the local time and adds the offset in winter", () => {
    expect(localInputToIso("2026-11-21T22:40")).toBe("2026-11-21T22:40:00+00:00");
  });

  it("uses the summer offset in summer", () => {
    expect(localInputToIso("2026-07-04T08:05")).toBe("2026-07-04T08:05:00+01:00");
  });

  it("reads a date alone as the start of that day", () => {
    expect(localInputToIso("2026-07-04")).toBe("2026-07-04T00:00:00+01:00");
  });

  it("refuses what is not a date", () => {
    expect(localInputToIso("")).toBeNull();
    expect(localInputToIso("yesterday")).toBeNull();
    expect(localInputToIso("2026-13-45T99:99")).not.toBeNull(); // the browser's input never sends this
  });

  it("round-trips a moment through the input's value", () => {
    const moment = new Date(2026, 2, 9, 7, 30);
    expect(toLocalInput(moment)).toBe("2026-03-09T07:30");
    expect(new Date(localInputToIso(toLocalInput(moment))!).getTime()).toBe(moment.getTime());
  });

  it("writes a negative offset with its sign", () => {
    const moment = new Date("2026-01-01T12:00:00Z");
    moment.getTimezoneOffset = () => 300; // New York in winter
    expect(toOffsetIso(moment).endsWith("-05:00")).toBe(true);
  });

  it("writes a half-hour offset", () => {
    const moment = new Date("2026-01-01T12:00:00Z");
    moment.getTimezoneOffset = () => -330; // India
    expect(toOffsetIso(moment).endsWith("+05:30")).toBe(true);
  });
});

describe("times shown to people", () => {
  it("shows the day, date and time in British English", () => {
    expect(formatWhen("2026-11-21T22:40:00+00:00")).toBe("Sat 21 Nov 2026, 22:40");
  });

  it("shows a time recorded elsewhere in this phone's time", () => {
    expect(formatWhen("2026-07-04T10:00:00+02:00")).toBe("Sat 4 Jul 2026, 09:00");
  });

  it("says how long ago, then the date", () => {
    const now = new Date("2026-11-21T12:00:00Z");
    expect(formatAgo("2026-11-21T11:59:30Z", now)).toBe("just now");
    expect(formatAgo("2026-11-21T11:59:00Z", now)).toBe("1 minute ago");
    expect(formatAgo("2026-11-21T09:00:00Z", now)).toBe("3 hours ago");
    expect(formatAgo("2026-11-19T12:00:00Z", now)).toBe("2 days ago");
    expect(formatAgo("2026-10-01T12:00:00Z", now)).toBe("1 Oct 2026");
    expect(formatAgo(null, now)).toBe("never");
  });

  it("passes through what it cannot read", () => {
    expect(formatWhen("soon")).toBe("soon");
    expect(formatWhen(null)).toBe("");
  });
});

describe("sizes and progress", () => {
  it("writes sizes as phones do", () => {
    expect(formatBytes(0)).toBe("0 bytes");
    expect(formatBytes(999)).toBe("999 bytes");
    expect(formatBytes(1500)).toBe("1.5 KB");
    expect(formatBytes(52_428_800)).toBe("52 MB");
    expect(formatBytes(4_294_967_296)).toBe("4.3 GB");
  });

  it("never says 100% before the end", () => {
    expect(formatPercent(0, 100)).toBe("0%");
    expect(formatPercent(999, 1000)).toBe("99%");
    expect(formatPercent(1000, 1000)).toBe("100%");
    expect(formatPercent(5, 0)).toBe("0%");
  });

  it("counts in words", () => {
    expect(countOf(1, "thing")).toBe("1 thing");
    expect(countOf(3, "thing")).toBe("3 things");
    expect(countOf(2, "other device")).toBe("2 other devices");
  });
});
