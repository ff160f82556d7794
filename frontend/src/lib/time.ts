import { localInputToIso } from "./format";

// A phone's clock can be a little ahead of the server's; the server allows five minutes.
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** An error message for a time field, or null when it is fine. */
export function checkMoment(value: string, { required = true } = {}): string | null {
  if (!value.trim()) return required ? "Enter a date and time." : null;
  const iso = localInputToIso(value);
  if (!iso) return "Enter a date and time, like 21/11/2026 22:40.";
  const moment = new Date(iso).getTime();
  if (moment > Date.now() + FUTURE_TOLERANCE_MS) return "This is in the future. Enter when it happened.";
  if (moment < Date.UTC(1900, 0, 1)) return "Enter a date after 1900.";
  return null;
}
