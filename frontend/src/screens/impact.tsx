import { useEffect, useState } from "preact/hooks";
import { Chips, CourtNote, Loading, Notice, Screen, TextArea } from "../components/ui";
import { WhenField } from "../components/when";
import { describeError } from "../lib/api";
import { IMPACT_AREAS } from "../lib/codes";
import { localInputToIso, toLocalInput } from "../lib/format";
import { newId } from "../lib/outbox";
import { changes } from "../lib/changes";
import { loadRecord } from "../lib/records";
import { navigate } from "../lib/router";
import { keep } from "../lib/session";
import { checkMoment } from "../lib/time";
import type { ImpactNote } from "../lib/types";

interface Draft {
  when: string;
  /** "Now" is chosen (a new note): nothing to type. */
  whenIsNow?: boolean;
  areas: string[];
  description: string;
}

const bodyOf = (draft: Draft) => ({
  noted_at: localInputToIso(draft.when),
  areas: draft.areas,
  description: draft.description.trim(),
});

function ImpactForm(props: { initial: Draft; submitLabel: string; onSubmit: (draft: Draft) => Promise<void> }) {
  const [draft, setDraft] = useState(props.initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const found: Record<string, string> = {};
    const when = checkMoment(draft.when);
    if (when) found.when = when;
    if (!draft.areas.length) found.areas = "Choose at least one.";
    if (!draft.description.trim()) found.description = "Write a few words about it.";
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      await props.onSubmit(draft);
    } catch (error) {
      setFailure(describeError(error));
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate>
      {Object.keys(errors).length > 0 && <Notice kind="error">Some answers need another look.</Notice>}
      {failure && <Notice kind="error">{failure}</Notice>}
      <Chips
        legend="Which parts of your life does it affect?"
        name="areas"
        options={IMPACT_AREAS}
        chosen={draft.areas}
        onChange={(areas) => setDraft({ ...draft, areas })}
        error={errors.areas}
      />
      <TextArea
        label="What has changed for you"
        hint="For example: I no longer walk the dog in the evening. I check the locks several times a night."
        value={draft.description}
        onValue={(description) => setDraft({ ...draft, description })}
        error={errors.description}
        rows={6}
        maxLength={20000}
      />
      <CourtNote />
      <WhenField
        legend="When"
        value={draft.when}
        onValue={(when) => setDraft({ ...draft, when })}
        error={errors.when}
        now={{ isNow: !!draft.whenIsNow, onNow: (whenIsNow, when) => setDraft({ ...draft, whenIsNow, when }) }}
      />
      <button type="submit" class="button primary big" disabled={busy}>
        {busy ? "Saving…" : props.submitLabel}
      </button>
    </form>
  );
}

export function NewImpactNote() {
  return (
    <Screen
      title="How it is affecting me"
      lead="Writing down how this is changing your day-to-day life helps show its effect on you: to the police, in court, and in a victim personal statement."
    >
      <ImpactForm
        initial={{ when: toLocalInput(new Date()), whenIsNow: true, areas: [], description: "" }}
        submitLabel="Save"
        onSubmit={async (draft) => {
          const id = newId();
          await keep("impact-notes", "create", id, bodyOf(draft));
          navigate("saved", { kind: "impact_note", id });
        }}
      />
    </Screen>
  );
}

export function EditImpactNote(props: { id: string }) {
  const [initial, setInitial] = useState<Draft | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    loadRecord<ImpactNote>("impact-notes", props.id)
      .then(({ record }) =>
        setInitial({ when: toLocalInput(new Date(record.noted_at)), areas: record.areas, description: record.description }),
      )
      .catch((error) => setFailure(describeError(error)));
  }, [props.id]);
  return (
    <Screen title="Change this note" lead="The earlier version is kept too.">
      {failure && <Notice kind="error">{failure}</Notice>}
      {!initial && !failure && <Loading />}
      {initial && (
        <ImpactForm
          initial={initial}
          submitLabel="Save changes"
          onSubmit={async (draft) => {
            const changed = changes(bodyOf(initial), bodyOf(draft), ["description"]);
            if (Object.keys(changed).length) await keep("impact-notes", "amend", props.id, changed);
            navigate("saved", { kind: "impact_note", id: props.id, changed: "1" });
          }}
        />
      )}
    </Screen>
  );
}
