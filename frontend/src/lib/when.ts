// The parts of "when" as the incident form asks for them: a day and a time, each its own box
// (the phone's own pickers), joined into the datetime-local form the rest of the app uses
// ("2026-11-21T22:40"), and the plain words for a time that was simply "now".

import { formatWhen, toDateInput } from "./format";

export interface MomentParts {
  date: string;
  time: string;
}

export function splitMoment(value: string): MomentParts {
  const [date = "", time = ""] = value.split("T");
  return { date, time: time.slice(0, 5) };
}

/** Both parts, or "" when both are empty. A time alone takes `sameDay` (an end time on the day
 * it started); a part missing otherwise leaves a value checkMoment refuses with a message. */
export function joinMoment({ date, time }: MomentParts, sameDay = ""): string {
  if (!date && !time) return "";
  return `${date || sameDay}T${time}`;
}

const NOW_WINDOW_MS = 60 * 60_000;

/** "Now: today, 21:40"; for a draft opened again later, the day and time it was begun. */
export function describeMoment(value: string, now: Date = new Date()): string {
  const { date, time } = splitMoment(value);
  const today = toDateInput(now);
  const yesterday = toDateInput(new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1));
  const day = date === today ? "today" : date === yesterday ? "yesterday" : formatDate(date);
  const moment = new Date(`${date}T${time}`).getTime();
  const recent = now.getTime() - moment < NOW_WINDOW_MS && moment - now.getTime() < NOW_WINDOW_MS;
  return recent && date === today ? `Now: today, ${time}` : `${day[0].toUpperCase()}${day.slice(1)}, ${time}`;
}

/** "Mon 2 Nov 2026", written as every other date in the app. */
function formatDate(date: string): string {
  const [y, m, d] = date.split("-").map(Number);
  return formatWhen(new Date(y, m - 1, d).toISOString()).split(",")[0];
}
