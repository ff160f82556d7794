import { describe, expect, it } from "vitest";
import { checkMoment } from "./time";
import { describeMoment, joinMoment, splitMoment } from "./when";

describe("a day and a time of their own", () => {
  it("split and join back the app's datetime form", () => {
    expect(splitMoment("2026-11-21T22:40")).toEqual({ date: "2026-11-21", time: "22:40" });
    expect(joinMoment({ date: "2026-11-21", time: "22:40" })).toBe("2026-11-21T22:40");
    expect(splitMoment("")).toEqual({ date: "", time: "" });
    expect(joinMoment({ date: "", time: "" })).toBe("");
  });

  it("take the start's day for an end time given alone", () => {
    expect(joinMoment({ date: "", time: "23:10" }, "2026-11-21")).toBe("2026-11-21T23:10");
  });

  it("ask for the missing part rather than guess midnight", () => {
    expect(checkMoment(joinMoment({ date: "2026-11-21", time: "" }))).toMatch(/^Enter a date and time/);
    expect(checkMoment(joinMoment({ date: "", time: "22:40" }))).toMatch(/^Enter a date and time/);
    expect(checkMoment(joinMoment({ date: "2026-11-21", time: "22:40" }))).toBeNull();
  });
});

describe("the words for a time", () => {
  const now = new Date(2026, 10, 21, 22, 45);
  it("say now for a time just taken", () => {
    expect(describeMoment("2026-11-21T22:40", now)).toBe("Now: today, 22:40");
  });
  it("say the day for a draft begun earlier", () => {
    expect(describeMoment("2026-11-21T08:05", now)).toBe("Today, 08:05");
    expect(describeMoment("2026-11-20T22:40", now)).toBe("Yesterday, 22:40");
    expect(describeMoment("2026-11-02T09:00", now)).toBe("Mon 2 Nov 2026, 09:00");
  });
});
