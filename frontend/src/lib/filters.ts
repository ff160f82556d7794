// Timeline and pack filters, turned into the API's query parameters.

import { query } from "./api";
import { localInputToIso } from "./format";

export interface Filters {
  q: string;
  kinds: string[];
  behaviours: string[];
  from: string; // a date input's value, YYYY-MM-DD
  to: string; // inclusive: the whole of that day
  crimeReference: string;
  newestFirst: boolean;
}

export const NO_FILTERS: Filters = {
  q: "",
  kinds: [],
  behaviours: [],
  from: "",
  to: "",
  crimeReference: "",
  newestFirst: true,
};

/** The start of the day after `date` (a date input's value), so "to" includes the whole day. */
export function dayAfter(date: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return null;
  const next = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + 1);
  return localInputToIso(
    `${String(next.getFullYear()).padStart(4, "0")}-${String(next.getMonth() + 1).padStart(2, "0")}-${String(next.getDate()).padStart(2, "0")}`,
  );
}

export function filterProblem(filters: Pick<Filters, "from" | "to">): string | null {
  if (filters.from && filters.to && filters.to < filters.from) return "The end date is before the start date.";
  return null;
}

export function timelineQuery(filters: Filters, cursor?: string | null, limit = 30): string {
  return query({
    q: filters.q.trim(),
    kinds: filters.kinds,
    behaviours: filters.behaviours,
    from: filters.from ? localInputToIso(filters.from) : null,
    to: filters.to ? dayAfter(filters.to) : null,
    crime_reference: filters.crimeReference.trim(),
    order: filters.newestFirst ? "desc" : "asc",
    limit,
    cursor: cursor ?? null,
  });
}

export function packQuery(options: {
  from: string;
  to: string;
  crimeReference: string;
  include: string[];
  exhibitPrefix?: string;
  caseLabel?: string;
}): string {
  const base = query({
    from: options.from ? localInputToIso(options.from) : null,
    to: options.to ? dayAfter(options.to) : null,
    crime_reference: options.crimeReference.trim(),
    exhibit_prefix: (options.exhibitPrefix ?? "").trim(),
    case_label: (options.caseLabel ?? "").trim(),
  });
  // Always explicit: without it the API includes everything.
  const include = `include=${options.include.join(",")}`;
  return base ? `${base}&${include}` : `?${include}`;
}
