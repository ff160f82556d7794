// Timeline items seen lately, for screens that show one without an endpoint of its own (an
// advocate's view of a note). Account data in memory: forgotten on every sign-out.

import type { TimelineItem } from "./types";

export const seenItems = new Map<string, TimelineItem>();

export function forgetSeen(): void {
  seenItems.clear();
}
