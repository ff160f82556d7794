import { useEffect, useState } from "preact/hooks";
import { CourtNote, Loading, Notice, Radios, Screen, TextArea, TextInput } from "../components/ui";
import { WhenField } from "../components/when";
import { describeError, get, OfflineError } from "../lib/api";
import { behaviourLabel, REPORT_METHODS } from "../lib/codes";
import { formatWhen, localInputToIso, toLocalInput } from "../lib/format";
import { entries, newId } from "../lib/outbox";
import { changes } from "../lib/changes";
import { loadRecord } from "../lib/records";
import { navigate } from "../lib/router";
import { appStore, keep } from "../lib/session";
import { checkMoment } from "../lib/time";
import type { Incident, Page, PoliceReport } from "../lib/types";

interface Draft {
  reference: string;
  when: string;
  /** "Now" is chosen (a new report): nothing to type. */
  whenIsNow?: boolean;
  method: string;
  force: string;
  officer: string;
  notes: string;
  incidents: string[];
}

const bodyOf = (draft: Draft) => ({
  crime_reference: draft.reference.trim(),
  reported_at: localInputToIso(draft.when),
  method: draft.method,
  force: draft.force.trim(),
  officer: draft.officer.trim(),
  notes: draft.notes.trim(),
  incident_ids: [...draft.incidents].sort(),
});

interface Choice {
  id: string;
  when: string;
  words: string;
}

/** Incidents to link: the latest from the server, and any still waiting on this phone. */
async function incidentChoices(): Promise<{ choices: Choice[]; offline: boolean }> {
  const user = appStore.get().user!;
  const waiting: Choice[] = (await entries(user.id))
    .filter((entry) => entry.resource === "incidents" && entry.op === "create")
    .map((entry) => ({
      id: entry.id,
      when: String(entry.body.occurred_at),
      words: ((entry.body.behaviours as string[]) ?? []).map(behaviourLabel).join(", "),
    }));
  try {
    const page = await get<Page<Incident>>("/incidents?order=desc&limit=100");
    const saved = page.items.map((incident) => ({
      id: incident.id,
      when: incident.occurred_at,
      words:
        incident.behaviours.map(behaviourLabel).join(", ") +
        (incident.description ? `: ${incident.description.slice(0, 60)}` : ""),
    }));
    return { choices: [...waiting, ...saved], offline: false };
  } catch (error) {
    if (error instanceof OfflineError) return { choices: waiting, offline: true };
    throw error;
  }
}

function PoliceForm(props: { initial: Draft; submitLabel: string; onSubmit: (draft: Draft) => Promise<void> }) {
  const [draft, setDraft] = useState(props.initial);
  const [choices, setChoices] = useState<Choice[] | null>(null);
  const [offline, setOffline] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (changes: Partial<Draft>) => setDraft((current) => ({ ...current, ...changes }));

  useEffect(() => {
    incidentChoices()
      .then(({ choices: found, offline: away }) => {
        setChoices(found);
        setOffline(away);
      })
      .catch((error) => setFailure(describeError(error)));
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    const found: Record<string, string> = {};
    const when = checkMoment(draft.when);
    if (when) found.when = when;
    if (!draft.method) found.method = "Choose how you reported it.";
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

  const toggle = (id: string, on: boolean) =>
    set({ incidents: on ? [...draft.incidents.filter((x) => x !== id), id] : draft.incidents.filter((x) => x !== id) });

  return (
    <form onSubmit={submit} noValidate>
      {Object.keys(errors).length > 0 && <Notice kind="error">Some answers need another look.</Notice>}
      {failure && <Notice kind="error">{failure}</Notice>}
      <TextInput
        label="Crime reference number"
        hint="As the police wrote it, for example CR/123456/26. Leave it empty if you have not been given one yet."
        value={draft.reference}
        onValue={(reference) => set({ reference })}
        maxLength={64}
        autoComplete="off"
        autoCapitalize="characters"
      />
      <WhenField
        legend="When you reported it"
        value={draft.when}
        onValue={(when) => set({ when })}
        error={errors.when}
        now={{ isNow: !!draft.whenIsNow, onNow: (whenIsNow, when) => set({ whenIsNow, when }) }}
      />
      <Radios
        legend="How you reported it"
        name="method"
        options={REPORT_METHODS}
        value={draft.method}
        onChange={(method) => set({ method })}
        error={errors.method}
      />
      <TextInput label="Police force" hint="For example, Dyfed-Powys Police." value={draft.force} onValue={(force) => set({ force })} maxLength={200} />
      <TextInput label="Officer's name or number" value={draft.officer} onValue={(officer) => set({ officer })} maxLength={200} />
      <TextArea label="Notes" hint="What they said, what happens next." value={draft.notes} onValue={(notes) => set({ notes })} rows={3} />
      <CourtNote />
      <fieldset class="field">
        <legend>Which incidents it covers</legend>
        {offline && <p class="hint">You are offline, so only incidents on this phone are listed.</p>}
        {!choices && <Loading />}
        {choices && !choices.length && <p class="muted">No incidents yet.</p>}
        {choices && choices.length > 0 && (
          <ul class="checklist">
            {choices.map((choice) => (
              <li key={choice.id}>
                <label class="check-row">
                  <input
                    type="checkbox"
                    checked={draft.incidents.includes(choice.id)}
                    onChange={(event) => toggle(choice.id, event.currentTarget.checked)}
                  />
                  <span>
                    <strong>{formatWhen(choice.when)}</strong> {choice.words}
                  </span>
                </label>
              </li>
            ))}
          </ul>
        )}
      </fieldset>
      <button type="submit" class="button primary big" disabled={busy}>
        {busy ? "Saving…" : props.submitLabel}
      </button>
    </form>
  );
}

const empty = (): Draft => ({
  reference: "",
  when: toLocalInput(new Date()),
  whenIsNow: true,
  method: "",
  force: "",
  officer: "",
  notes: "",
  incidents: [],
});

export function NewPoliceReport() {
  return (
    <Screen title="Police report" lead="Each time you contact the police, note it here with the crime reference number.">
      <PoliceForm
        initial={empty()}
        submitLabel="Save"
        onSubmit={async (draft) => {
          const id = newId();
          const body = Object.fromEntries(Object.entries(bodyOf(draft)).filter(([, value]) => value !== ""));
          await keep("police-reports", "create", id, body);
          navigate("saved", { kind: "police_report", id });
        }}
      />
    </Screen>
  );
}

export function EditPoliceReport(props: { id: string }) {
  const [initial, setInitial] = useState<Draft | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    loadRecord<PoliceReport>("police-reports", props.id)
      .then(({ record }) =>
        setInitial({
          reference: record.crime_reference ?? "",
          when: toLocalInput(new Date(record.reported_at)),
          method: record.method,
          force: record.force ?? "",
          officer: record.officer ?? "",
          notes: record.notes ?? "",
          incidents: record.incident_ids ?? [],
        }),
      )
      .catch((error) => setFailure(describeError(error)));
  }, [props.id]);
  return (
    <Screen title="Change this police report" lead="The earlier version is kept too.">
      {failure && <Notice kind="error">{failure}</Notice>}
      {!initial && !failure && <Loading />}
      {initial && (
        <PoliceForm
          initial={initial}
          submitLabel="Save changes"
          onSubmit={async (draft) => {
            const changed = changes(bodyOf(initial), bodyOf(draft));
            if (Object.keys(changed).length) await keep("police-reports", "amend", props.id, changed);
            navigate("saved", { kind: "police_report", id: props.id, changed: "1" });
          }}
        />
      )}
    </Screen>
  );
}
