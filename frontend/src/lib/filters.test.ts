import { describe, expect, it } from "vitest";
import { fieldErrors, plainMessage, query } from "./api";
import { filenameOf } from "./download";
import { dayAfter, filterProblem, NO_FILTERS, packQuery, timelineQuery } from "./filters";

describe("timeline filters", () => {
  it("asks for the newest first and nothing else by default", () => {
    expect(timelineQuery(NO_FILTERS)).toBe("?order=desc&limit=30");
  });

  it("joins lists with commas and includes the whole last day", () => {
    const q = new URLSearchParams(
      timelineQuery({
        ...NO_FILTERS,
        q: "  car ",
        kinds: ["incident", "evidence"],
        behaviours: ["threats", "turning_up"],
        from: "2026-03-01",
        to: "2026-03-31",
        crimeReference: " CR/123456/26 ",
        newestFirst: false,
      }, "abc"),
    );
    expect(q.get("q")).toBe("car");
    expect(q.get("kinds")).toBe("incident,evidence");
    expect(q.get("behaviours")).toBe("threats,turning_up");
    expect(q.get("from")).toBe("2026-03-01T00:00:00+00:00");
    expect(q.get("to")).toBe("2026-04-01T00:00:00+01:00"); // the clocks change on 29 March
    expect(q.get("crime_reference")).toBe("CR/123456/26");
    expect(q.get("order")).toBe("asc");
    expect(q.get("cursor")).toBe("abc");
  });

  it("rolls over months and years", () => {
    expect(dayAfter("2026-12-31")).toBe("2027-01-01T00:00:00+00:00");
    expect(dayAfter("2028-02-28")).toBe("2028-02-29T00:00:00+00:00");
    expect(dayAfter("nonsense")).toBeNull();
  });

  it("notices an end before a start", () => {
    expect(filterProblem({ from: "2026-03-02", to: "2026-03-01" })).toMatch(/before/);
    expect(filterProblem({ from: "2026-03-01", to: "2026-03-01" })).toBeNull();
    expect(filterProblem({ from: "", to: "2026-03-01" })).toBeNull();
  });
});

describe("pack filters", () => {
  it("always says what to include, even nothing", () => {
    expect(packQuery({ from: "", to: "", crimeReference: "", include: [] })).toBe("?include=");
    expect(packQuery({ from: "", to: "", crimeReference: "", include: ["impact_notes", "evidence"] })).toBe(
      "?include=impact_notes,evidence",
    );
    const q = new URLSearchParams(packQuery({ from: "", to: "", crimeReference: "CR/1", include: ["evidence"] }));
    expect(q.get("crime_reference")).toBe("CR/1");
    expect(q.get("include")).toBe("evidence");
    expect(q.has("exhibit_prefix")).toBe(false);
  });

  it("sends the exhibit letters and the case label when they are chosen", () => {
    const q = new URLSearchParams(
      packQuery({ from: "", to: "", crimeReference: "", include: [], exhibitPrefix: " DC ", caseLabel: " Operation Elm " }),
    );
    expect(q.get("exhibit_prefix")).toBe("DC");
    expect(q.get("case_label")).toBe("Operation Elm");
  });
});

describe("API helpers", () => {
  it("builds query strings from the values that are set", () => {
    expect(query({ a: "", b: null, c: undefined, d: false, e: [] })).toBe("");
    expect(query({ limit: 5, kinds: ["a", "b"], on: true })).toBe("?limit=5&kinds=a%2Cb&on=true");
  });

  it("maps problem details' errors to form fields, plainly", () => {
    expect(
      fieldErrors({
        errors: [
          { loc: ["body", "password"], msg: "Value error, Use at least 12 characters." },
          { loc: ["body", "password"], msg: "second message" },
          { loc: ["query", "from"], msg: "bad" },
          { loc: ["body"], msg: "whole body" },
        ],
      }),
    ).toEqual({ password: "Use at least 12 characters.", from: "Bad" });
    expect(plainMessage("")).toBe("This is not valid.");
  });

  it("reads the pack's file name from Content-Disposition", () => {
    expect(filenameOf(`attachment; filename="pack.zip"; filename*=UTF-8''waymark%20pack%E2%80%942026.zip`)).toBe("waymark pack—2026.zip");
    expect(filenameOf('attachment; filename="waymark-evidence-pack.zip"')).toBe("waymark-evidence-pack.zip");
    expect(filenameOf(null)).toBe("evidence-pack.zip");
  });
});
