import { useEffect, useRef, useState } from "preact/hooks";
import { Chips, CourtNote, Go, Loading, Notice, Radios, Screen, TextArea, TextInput } from "../components/ui";
import { WhenField } from "../components/when";
import { describeError } from "../lib/api";
import { BEHAVIOURS, CHANNELS } from "../lib/codes";
import { localInputToIso, toLocalInput } from "../lib/format";
import { newId } from "../lib/outbox";
import { changes } from "../lib/changes";
import { loadRecord } from "../lib/records";
import { navigate } from "../lib/router";
import { appStore, keep } from "../lib/session";
import { useStore } from "../lib/store";
import { checkMoment } from "../lib/time";
import type { Incident } from "../lib/types";
import { addFiles } from "../lib/uploads";
import { dropDraft, loadDraft, saveDraft } from "../lib/vault";

const DRAFT_SAVE_MS = 250;

interface IncidentDraft {
  when: string;
  /** "Now" is chosen: the moment the form was opened, nothing typed. */
  whenIsNow?: boolean;
  until: string;
  approximate: boolean;
  description: string;
  behaviours: string[];
  location: string;
  channel: string;
  witnesses: string;
  feelings: string;
}

function draftOf(incident?: Partial<Incident>): IncidentDraft {
  return {
    when: incident?.occurred_at ? toLocalInput(new Date(incident.occurred_at)) : toLocalInput(new Date()),
    whenIsNow: !incident,
    until: incident?.occurred_until ? toLocalInput(new Date(incident.occurred_until)) : "",
    approximate: !!incident?.time_is_approximate,
    description: incident?.description ?? "",
    behaviours: incident?.behaviours ?? [],
    location: incident?.location ?? "",
    channel: incident?.channel ?? "",
    witnesses: incident?.witnesses ?? "",
    feelings: incident?.feelings ?? "",
  };
}

function bodyOf(draft: IncidentDraft): Record<string, unknown> {
  return {
    occurred_at: localInputToIso(draft.when),
    occurred_until: draft.until ? localInputToIso(draft.until) : "",
    time_is_approximate: draft.approximate,
    description: draft.description.trim(),
    // Nothing chosen in a hurry still saves; it can be changed later.
    behaviours: draft.behaviours.length ? draft.behaviours : ["other"],
    location: draft.location.trim(),
    channel: draft.channel,
    witnesses: draft.witnesses.trim(),
    feelings: draft.feelings.trim(),
  };
}

function problems(draft: IncidentDraft): Record<string, string> {
  const found: Record<string, string> = {};
  const when = checkMoment(draft.when);
  if (when) found.when = when;
  const until = checkMoment(draft.until, { required: false });
  if (until) found.until = until;
  else if (draft.until && localInputToIso(draft.until)! < localInputToIso(draft.when)!) found.until = "This is before it started.";
  return found;
}

function IncidentForm(props: {
  initial: IncidentDraft;
  detailsOpen: boolean;
  withFiles: boolean;
  submitLabel: string;
  /** Where what is typed is kept as it is typed (sealed), until it is saved. */
  draftName: string;
  onSubmit: (draft: IncidentDraft, files: File[]) => Promise<void>;
}) {
  const [draft, setDraft] = useState(props.initial);
  const typed = useRef(false);
  useEffect(() => {
    void loadDraft<IncidentDraft>(props.draftName).then((kept) => {
      if (kept && !typed.current) setDraft({ ...props.initial, ...kept });
    });
  }, [props.draftName]);
  useEffect(() => {
    if (!typed.current) return;
    const timer = setTimeout(() => void saveDraft(props.draftName, draft), DRAFT_SAVE_MS);
    return () => clearTimeout(timer);
  }, [draft, props.draftName]);
  const [files, setFiles] = useState<File[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (changes: Partial<IncidentDraft>) => {
    typed.current = true;
    setDraft((current) => ({ ...current, ...changes }));
  };
  const errorSummary = useRef<HTMLDivElement>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const found = problems(draft);
    setErrors(found);
    if (Object.keys(found).length) {
      errorSummary.current?.focus();
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      await props.onSubmit(draft, files);
      await dropDraft(props.draftName);
    } catch (error) {
      setFailure(describeError(error));
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate>
      <div tabIndex={-1} ref={errorSummary}>
        {Object.keys(errors).length > 0 && <Notice kind="error">Please check the time.</Notice>}
        {failure && <Notice kind="error">{failure}</Notice>}
      </div>
      <WhenField
        legend="When did it happen?"
        value={draft.when}
        onValue={(when) => set({ when })}
        error={errors.when}
        now={{ isNow: !!draft.whenIsNow, onNow: (whenIsNow, when) => set({ whenIsNow, when, ...(whenIsNow ? { approximate: false } : {}) }) }}
        approximate={{ checked: draft.approximate, onChange: (approximate) => set({ approximate }) }}
      />
      <TextArea
        label="What happened"
        hint="In your own words. A few words is enough for now."
        value={draft.description}
        onValue={(description) => set({ description })}
        maxLength={20000}
      />
      <CourtNote />
      <Chips
        legend="What kind of thing was it?"
        hint="Choose any that fit. If you choose none it is saved as “Something else”."
        name="behaviours"
        options={BEHAVIOURS}
        chosen={draft.behaviours}
        onChange={(behaviours) => set({ behaviours })}
      />
      <details class="more" open={props.detailsOpen}>
        <summary>Add more detail</summary>
        <TextInput
          label="Where"
          hint="A place or address, as you would describe it."
          value={draft.location}
          onValue={(location) => set({ location })}
          maxLength={500}
        />
        <WhenField
          legend="Until (if it went on for a while)"
          hint="A time alone is on the same day."
          value={draft.until}
          onValue={(until) => set({ until })}
          error={errors.until}
          sameDay={draft.when.split("T")[0]}
        />
        <Radios
          legend="How did it reach you?"
          name="channel"
          options={[["", "Not sure / skip"], ...CHANNELS]}
          value={draft.channel}
          onChange={(channel) => set({ channel })}
        />
        <TextArea
          label="Who else saw or heard it"
          hint="Names or how to reach them, if you know."
          value={draft.witnesses}
          onValue={(witnesses) => set({ witnesses })}
          rows={2}
          maxLength={2000}
        />
        <TextArea
          label="How it made you feel"
          value={draft.feelings}
          onValue={(feelings) => set({ feelings })}
          rows={3}
          maxLength={5000}
        />
        {props.withFiles && (
          <div class="field">
            <label for="incident-files">Photos, videos or files</label>
            <p class="hint" id="incident-files-hint">
              They are sent after the incident, with a check that they arrived unchanged.
            </p>
            <input
              id="incident-files"
              type="file"
              multiple
              aria-describedby="incident-files-hint"
              onChange={(event) => setFiles(Array.from(event.currentTarget.files ?? []))}
            />
          </div>
        )}
      </details>
      <div class="sticky-actions">
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? "Saving…" : props.submitLabel}
        </button>
      </div>
    </form>
  );
}

export function QuickLog() {
  return (
    <Screen title="What happened?">
      <IncidentForm
        initial={draftOf()}
        detailsOpen={false}
        withFiles
        submitLabel="Save"
        draftName="new-incident"
        onSubmit={async (draft, files) => {
          const id = newId();
          const body = Object.fromEntries(
            Object.entries(bodyOf(draft)).filter(([, value]) => value !== "" && value !== false),
          );
          await keep("incidents", "create", id, body);
          if (files.length) await addFiles(files, { description: "", incidentIds: [id] });
          navigate("saved", { kind: "incident", id });
        }}
      />
    </Screen>
  );
}

export function EditIncident(props: { id: string }) {
  const [initial, setInitial] = useState<IncidentDraft | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    loadRecord<Incident>("incidents", props.id)
      .then(({ record }) => setInitial(draftOf(record)))
      .catch((error) => setFailure(describeError(error)));
  }, [props.id]);
  return (
    <Screen title="Add more detail" lead="The first version is kept too: changes are added, never written over.">
      {failure && <Notice kind="error">{failure}</Notice>}
      {!initial && !failure && <Loading />}
      {initial && (
        <IncidentForm
          initial={initial}
          detailsOpen
          withFiles={false}
          submitLabel="Save changes"
          draftName={`incident-${props.id}`}
          onSubmit={async (draft) => {
            const changed = changes(bodyOf(initial), bodyOf(draft), ["description"]);
            if (Object.keys(changed).length) await keep("incidents", "amend", props.id, changed);
            navigate("saved", { kind: "incident", id: props.id, changed: "1" });
          }}
        />
      )}
    </Screen>
  );
}

/** After saving: say where it is, and offer the next steps. */
export function Saved(props: { kind: string; id: string; changed?: string }) {
  const { pending, online } = useStore(appStore);
  const waiting = pending.filter((entry) => entry.id === props.id);
  const failed = waiting.find((entry) => entry.state === "failed");
  const words = props.kind === "incident" ? "incident" : props.kind === "impact_note" ? "note" : "police report";
  return (
    <Screen title={props.changed ? "Changes saved" : "Saved"}>
      {failed ? (
        <Notice kind="error">This could not be sent: {failed.error}</Notice>
      ) : waiting.length ? (
        <Notice kind="info">
          Kept on this phone. {online ? "Sending now…" : "It will be sent as soon as there is a connection."}
        </Notice>
      ) : (
        <Notice kind="ok">Your {words} is saved.</Notice>
      )}
      <div class="stack">
        {props.kind === "incident" && (
          <>
            <Go to="edit-incident" params={{ id: props.id }}>
              Add more detail
            </Go>
            <Go to="evidence" params={{ incident: props.id }}>
              Add photos or files to it
            </Go>
          </>
        )}
        {!waiting.length && (
          <Go to="item" params={{ kind: props.kind, id: props.id }}>
            See it
          </Go>
        )}
        <Go to="log">Log something else</Go>
        <Go to="home" variant="primary">
          Done
        </Go>
      </div>
    </Screen>
  );
}
