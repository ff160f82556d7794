// Lists shared by several screens: what is waiting to be sent, files on their way, the timeline.

import { behaviourLabel, KIND_WORDS } from "../lib/codes";
import { countOf, formatBytes, formatWhen } from "../lib/format";
import type { OutboxEntry } from "../lib/outbox";
import { uploadWords } from "../lib/upload-words";
import { discardUpload, pauseUpload, resumeUpload, type UploadView } from "../lib/uploads";
import type { TimelineItem } from "../lib/types";

const RESOURCE_WORDS: Record<string, string> = {
  incidents: "Incident",
  "impact-notes": "Impact note",
  "police-reports": "Police report",
};

export function describeEntry(entry: OutboxEntry): string {
  const body = entry.body as Record<string, unknown>;
  const what = RESOURCE_WORDS[entry.resource] ?? "Record";
  if (entry.op === "amend") return `Changes to ${entry.resource === "police-reports" ? "a" : "an"} ${what.toLowerCase()}`;
  if (entry.resource === "incidents") {
    const behaviours = ((body.behaviours as string[]) ?? []).map(behaviourLabel).join(", ");
    const text = String(body.description ?? "").trim();
    return `${behaviours}${text ? `: ${text.slice(0, 80)}${text.length > 80 ? "…" : ""}` : ""}`;
  }
  if (entry.resource === "police-reports") return `Police report${body.crime_reference ? ` (${String(body.crime_reference)})` : ""}`;
  const text = String(body.description ?? "");
  return `How it is affecting me: ${text.slice(0, 80)}${text.length > 80 ? "…" : ""}`;
}

function whenOf(entry: OutboxEntry): string {
  const body = entry.body as Record<string, string>;
  return formatWhen(body.occurred_at ?? body.noted_at ?? body.reported_at ?? entry.queuedAt);
}

export function PendingList(props: { entries: OutboxEntry[] }) {
  if (!props.entries.length) return null;
  return (
    <ul class="items pending" aria-label="Waiting to be sent">
      {props.entries.map((entry) => (
        <li key={entry.seq} class="item">
          <span class="kind">
            {RESOURCE_WORDS[entry.resource]} · {entry.state === "failed" ? "not accepted" : "waiting to send"}
          </span>
          <span class="when">{whenOf(entry)}</span>
          <span class="summary">{describeEntry(entry)}</span>
          {entry.state === "failed" && <span class="error">{entry.error}</span>}
        </li>
      ))}
    </ul>
  );
}

export function UploadList(props: { items: UploadView[]; onOpen?: (evidenceId: string) => void }) {
  if (!props.items.length) return null;
  return (
    <ul class="uploads" aria-label="Files">
      {props.items.map((item) => {
        const words = uploadWords(item);
        const label = `${words.status}: ${item.name}`;
        return (
          <li key={item.id} class={`upload ${item.status}`}>
            <p class="upload-name">
              <strong>{item.name}</strong> <span class="muted">{formatBytes(item.size)}</span>
            </p>
            <p class="upload-status" aria-live="off">
              {words.status}
            </p>
            {words.note && <p class="hint upload-note">{words.note}</p>}
            {item.status !== "done" && item.status !== "failed" && (
              <progress max={Math.max(item.total, 1)} value={item.done} aria-label={label} />
            )}
            {item.error && <p class="error">{item.error}</p>}
            <div class="row">
              {(item.status === "uploading" || item.status === "hashing" || item.status === "waiting") && (
                <button type="button" class="button small" onClick={() => void pauseUpload(item.id)}>
                  Pause<span class="visually-hidden"> {item.name}</span>
                </button>
              )}
              {(item.status === "paused" || item.status === "failed") && (
                <button type="button" class="button small" onClick={() => void resumeUpload(item.id)}>
                  {item.status === "failed" ? "Try again" : "Resume"}
                  <span class="visually-hidden"> {item.name}</span>
                </button>
              )}
              {item.status === "done" && item.evidenceId && props.onOpen && (
                <button type="button" class="button small" onClick={() => props.onOpen?.(item.evidenceId!)}>
                  Open<span class="visually-hidden"> {item.name}</span>
                </button>
              )}
              {item.status !== "done" && (
                <button type="button" class="button small plain" onClick={() => void discardUpload(item.id)}>
                  Remove<span class="visually-hidden"> {item.name}</span>
                </button>
              )}
            </div>
          </li>
        );
      })}
    </ul>
  );
}

export function TimelineList(props: { items: TimelineItem[]; onOpen: (item: TimelineItem) => void; label: string }) {
  return (
    <ul class="items" aria-label={props.label}>
      {props.items.map((item) =>
        item.kind === "advocate_note" ? (
          <li key={`${item.kind}-${item.id}`} class="item note">
            <span class="kind">{KIND_WORDS[item.kind]}</span>
            <span class="when">{formatWhen(item.at)}</span>
            <span class="summary">{String(item.data.body ?? item.summary)}</span>
            <span class="muted">
              From {String((item.data.author as { display_name?: string } | undefined)?.display_name ?? "your advocate")}
            </span>
          </li>
        ) : (
          <li key={`${item.kind}-${item.id}`}>
            <button type="button" class={`item open ${item.kind}`} onClick={() => props.onOpen(item)}>
              <span class="kind">
                {KIND_WORDS[item.kind]}
                {crimeReferences(item)}
              </span>
              <span class="when">{formatWhen(item.at)}</span>
              <span class="summary">{summaryOf(item)}</span>
            </button>
          </li>
        ),
      )}
    </ul>
  );
}

/** Incidents in the app's own words for the behaviours; other kinds as the server puts them. */
function summaryOf(item: TimelineItem): string {
  if (item.kind !== "incident") return item.summary;
  const words = ((item.data.behaviours as string[]) ?? []).map(behaviourLabel).join(", ");
  const text = String(item.data.description ?? "").replace(/\s+/g, " ").trim();
  return text ? `${words}: ${text.length > 140 ? `${text.slice(0, 139)}…` : text}` : words;
}

function crimeReferences(item: TimelineItem): string {
  const refs = item.data.crime_references as string[] | undefined;
  if (item.kind === "incident" && refs?.length) return ` · ${refs.join(", ")}`;
  const files = item.data.evidence_ids as string[] | undefined;
  if (item.kind === "incident" && files?.length) return ` · ${countOf(files.length, "file")}`;
  return "";
}
