import { describe, expect, it } from "vitest";
import { changes } from "./changes";

describe("what an edit changed", () => {
  const before = {
    occurred_at: "2026-11-21T22:40:00+00:00",
    description: "Car outside",
    location: "",
    behaviours: ["watching"],
    channel: "",
  };

  it("sends nothing when nothing changed", () => {
    expect(changes(before, { ...before })).toEqual({});
  });

  it("sends only the fields that changed", () => {
    expect(changes(before, { ...before, location: "Station Road", behaviours: ["watching", "turning_up"] })).toEqual({
      location: "Station Road",
      behaviours: ["watching", "turning_up"],
    });
  });

  it("clears optional fields with null, and text the API requires with an empty string", () => {
    const filled = { ...before, location: "Home", channel: "email" };
    expect(changes(filled, { ...filled, location: "", channel: "", description: "" }, ["description"])).toEqual({
      location: null,
      channel: null,
      description: "",
    });
  });

  it("treats a field the record did not have as empty", () => {
    expect(changes({}, { witnesses: "" })).toEqual({});
    expect(changes({}, { witnesses: "A neighbour" })).toEqual({ witnesses: "A neighbour" });
  });
});
