// Times and sizes, written the way people read them (en-GB), and times sent the way the API
// wants them: ISO 8601 with the offset of the phone's own time zone, so "22:40" stays 22:40.

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, "0");

/** The value a datetime-local input shows for this moment, in the phone's time zone. */
export function toLocalInput(moment: Date): string {
  return (
    `${pad(moment.getFullYear(), 4)}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}` +
    `T${pad(moment.getHours())}:${pad(moment.getMinutes())}`
  );
}

/** The value a date input shows for this moment. */
export function toDateInput(moment: Date): string {
  return toLocalInput(moment).slice(0, 10);
}

/** "2026-11-21T22:40" (a datetime-local value) → "2026-11-21T22:40:00+00:00". */
export function localInputToIso(value: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, h = "00", mi = "00", s = "00"] = match;
  const moment = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(moment.getTime())) return null;
  return toOffsetIso(moment);
}

/** A moment as ISO 8601 in the phone's time zone, with its offset ("+01:00"). */
export function toOffsetIso(moment: Date): string {
  const offset = -moment.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return (
    `${pad(moment.getFullYear(), 4)}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}` +
    `T${pad(moment.getHours())}:${pad(moment.getMinutes())}:${pad(moment.getSeconds())}` +
    `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
  );
}

const dateTime = new Intl.DateTimeFormat("en-GB", {
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
const dateOnly = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });

/** "Sat 21 Nov 2026, 22:40" in the phone's time zone (assembled from parts, so every
 * browser's ICU writes it the same way). */
export function formatWhen(iso: string | null | undefined): string {
  if (!iso) return "";
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return iso;
  const part = Object.fromEntries(dateTime.formatToParts(moment).map(({ type, value }) => [type, value]));
  return `${part.weekday} ${part.day} ${part.month} ${part.year}, ${part.hour}:${part.minute}`;
}

export function formatDay(iso: string | null | undefined): string {
  if (!iso) return "";
  const moment = new Date(iso);
  return Number.isNaN(moment.getTime()) ? iso : dateOnly.format(moment);
}

/** "just now", "5 minutes ago", "3 hours ago", "2 days ago", then the date. */
export function formatAgo(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "never";
  const moment = new Date(iso);
  const seconds = Math.round((now.getTime() - moment.getTime()) / 1000);
  if (Number.isNaN(seconds)) return iso;
  if (seconds < 60) return "just now";
  const unit = (value: number, word: string) => `${value} ${word}${value === 1 ? "" : "s"} ago`;
  if (seconds < 3600) return unit(Math.floor(seconds / 60), "minute");
  if (seconds < 86400) return unit(Math.floor(seconds / 3600), "hour");
  if (seconds < 7 * 86400) return unit(Math.floor(seconds / 86400), "day");
  return formatDay(iso);
}

/** 1234567 → "1.2 MB" (powers of 1000, as phones show sizes). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let index = 0;
  while (value >= 1000 && index < units.length - 1) {
    value /= 1000;
    index += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[index]}`;
}

/** 0.4567 → "46%" (never 100% until it is really done). */
export function formatPercent(done: number, total: number): string {
  if (total <= 0) return "0%";
  const percent = Math.floor((done / total) * 100);
  return `${done >= total ? 100 : Math.min(percent, 99)}%`;
}

/** "2 things" / "1 thing". */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}
