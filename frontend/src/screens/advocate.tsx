import { useEffect, useState } from "preact/hooks";
import { ExportForm } from "../components/export";
import { TimelineView } from "../components/timeline";
import { Go, Loading, Notice, Screen, TextArea } from "../components/ui";
import { describeError, get, post } from "../lib/api";
import { countOf, formatAgo, formatDay, formatWhen } from "../lib/format";
import { newId } from "../lib/outbox";
import { navigate } from "../lib/router";
import type { AdvocateNote, Case, Invitation, Page } from "../lib/types";
import { KINDS } from "../lib/codes";

function NewCode() {
  const [invitation, setInvitation] = useState<Invitation | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function make() {
    setError(null);
    try {
      setInvitation(await post<Invitation>("/invitations"));
    } catch (failure) {
      setError(describeError(failure));
    }
  }
  return (
    <section aria-labelledby="code-heading" class="panel">
      <h2 id="code-heading">Someone new</h2>
      <p>Give the person a code to enter on their Share screen. Each code works once.</p>
      {error && <Notice kind="error">{error}</Notice>}
      {invitation ? (
        <div role="status">
          <p class="code" aria-label={`Code: ${invitation.code.split("").join(" ")}`}>
            {invitation.code}
          </p>
          <p class="hint">Read it to them now: it is shown only once. It works until {formatWhen(invitation.expires_at)}.</p>
        </div>
      ) : (
        <button type="button" class="button primary" onClick={() => void make()}>
          Get a code
        </button>
      )}
    </section>
  );
}

export function Caseload() {
  const [cases, setCases] = useState<Case[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<Page<Case>>("/cases")
      .then((page) => setCases(page.items))
      .catch((failure) => setError(describeError(failure)));
  }, []);
  return (
    <Screen title="Your cases">
      <NewCode />
      <h2>People sharing with you</h2>
      {error && <Notice kind="error">{error}</Notice>}
      {!cases && !error && <Loading />}
      {cases && !cases.length && <p class="muted">Nobody yet. When someone enters your code, they appear here.</p>}
      {cases && cases.length > 0 && (
        <ul class="items">
          {cases.map((item) => (
            <li key={item.id}>
              <button type="button" class="item open" onClick={() => navigate("case", { id: item.id })}>
                <span class="summary">
                  <strong>{item.victim.display_name}</strong>
                </span>
                <span class="when">
                  Since {formatDay(item.since)} · last activity {formatAgo(item.last_activity)}
                </span>
                <span class="kind">
                  {countOf(item.counts.incident ?? 0, "incident")} · {countOf(item.counts.evidence ?? 0, "file")}
                  {item.can_export ? " · may export" : ""}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <Go to="account" variant="plain">
        Account
      </Go>
    </Screen>
  );
}

function Notes(props: { caseId: string }) {
  const [notes, setNotes] = useState<AdvocateNote[] | null>(null);
  const [body, setBody] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const load = () =>
    get<Page<AdvocateNote>>(`/cases/${props.caseId}/notes`)
      .then((page) => setNotes(page.items))
      .catch((failure) => setError(describeError(failure)));
  useEffect(() => void load(), [props.caseId]);

  async function add(event: Event) {
    event.preventDefault();
    setError(null);
    setSaved(false);
    if (!body.trim()) {
      setError("Write the note first.");
      return;
    }
    try {
      await post(`/cases/${props.caseId}/notes`, { id: newId(), body: body.trim() });
      setBody("");
      setSaved(true);
      await load();
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  return (
    <section aria-labelledby="notes-heading">
      <h2 id="notes-heading">Your notes</h2>
      {notes && !notes.length && <p class="muted">No notes yet.</p>}
      {notes && notes.length > 0 && (
        <ul class="items">
          {notes.map((note) => (
            <li key={note.id} class="item note">
              <span class="when">{formatWhen(note.created_at)}</span>
              <span class="summary">{note.body}</span>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={add} noValidate>
        {saved && <Notice kind="ok">Note added. They can see it on their timeline.</Notice>}
        <TextArea
          label="Add a note"
          hint="The person you support sees your notes, and they can go in an evidence pack."
          value={body}
          onValue={setBody}
          rows={3}
          maxLength={10000}
          error={error ?? undefined}
        />
        <button type="submit" class="button primary">
          Add note
        </button>
      </form>
    </section>
  );
}

export function CaseView(props: { id: string }) {
  const [item, setItem] = useState<Case | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<"timeline" | "notes" | "export">("timeline");
  useEffect(() => {
    get<Case>(`/cases/${props.id}`)
      .then(setItem)
      .catch((failure) => setError(describeError(failure)));
  }, [props.id]);
  const tabs: [typeof tab, string][] = [
    ["timeline", "Timeline"],
    ["notes", "Notes"],
  ];
  if (item?.can_export) tabs.push(["export", "Evidence pack"]);
  return (
    <Screen title={item ? item.victim.display_name : "Case"}>
      {error && <Notice kind="error">{error}</Notice>}
      {item && (
        <p class="muted">
          Sharing since {formatDay(item.since)} · {countOf(item.counts.incident ?? 0, "incident")},{" "}
          {countOf(item.counts.impact_note ?? 0, "impact note")}, {countOf(item.counts.police_report ?? 0, "police report")},{" "}
          {countOf(item.counts.evidence ?? 0, "file")}
        </p>
      )}
      <div class="tabs" role="group" aria-label="Case sections">
        {tabs.map(([key, words]) => (
          <button key={key} type="button" class={`button ${tab === key ? "primary" : "secondary"}`} aria-pressed={tab === key} onClick={() => setTab(key)}>
            {words}
          </button>
        ))}
      </div>
      {tab === "timeline" && (
        <TimelineView
          path={`/cases/${props.id}/timeline`}
          kinds={KINDS}
          onOpen={(entry) => navigate("case-item", { caseId: props.id, kind: entry.kind, id: entry.id })}
        />
      )}
      {tab === "notes" && <Notes caseId={props.id} />}
      {tab === "export" && item?.can_export && <ExportForm path={`/cases/${props.id}/exports/pack`} />}
      <Go to="cases" variant="plain">
        Back to your cases
      </Go>
    </Screen>
  );
}
