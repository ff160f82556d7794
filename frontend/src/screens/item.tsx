import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { seenItems } from "../lib/seen";
import { Definition, Go, Loading, Notice, Screen, TextArea } from "../components/ui";
import { API, ApiError, del, describeError, get, patch } from "../lib/api";
import { areaLabel, behaviourLabel, channelLabel, KIND_WORDS, methodLabel, RESOURCE_OF } from "../lib/codes";
import { downloadWithProgress, saveBlob } from "../lib/download";
import { formatBytes, formatWhen } from "../lib/format";
import { navigate } from "../lib/router";
import type { Evidence, ImpactNote, Incident, PoliceReport, Revision } from "../lib/types";

type AnyRecord = Record<string, unknown> & { id: string };

const FIELD_WORDS: Record<string, string> = {
  occurred_at: "When",
  occurred_until: "Until",
  time_is_approximate: "Time is approximate",
  location: "Where",
  behaviours: "What kind",
  channel: "How it reached you",
  description: "What happened / description",
  witnesses: "Witnesses",
  feelings: "How it made you feel",
  noted_at: "Date",
  areas: "Parts of life affected",
  crime_reference: "Crime reference",
  reported_at: "Reported",
  force: "Police force",
  officer: "Officer",
  method: "How",
  notes: "Notes",
  incident_ids: "Incidents",
};

function showValue(field: string, value: unknown): string {
  if (value === null || value === undefined || value === "") return "(empty)";
  if (field.endsWith("_at") || field === "occurred_until") return formatWhen(String(value));
  if (field === "behaviours") return (value as string[]).map(behaviourLabel).join(", ");
  if (field === "areas") return (value as string[]).map(areaLabel).join(", ");
  if (field === "channel") return channelLabel(String(value));
  if (field === "method") return methodLabel(String(value));
  if (field === "incident_ids") return `${(value as string[]).length} linked`;
  if (typeof value === "boolean") return value ? "Yes" : "No";
  return String(value);
}

export function Revisions(props: { revisions: Revision[] }) {
  if (props.revisions.length < 2) return <p class="muted">Not changed since it was first saved.</p>;
  return (
    <ol class="revisions">
      {props.revisions.map((revision, index) => {
        const before = index ? props.revisions[index - 1] : null;
        const changed = before
          ? Object.keys(FIELD_WORDS).filter((field) => JSON.stringify(revision[field]) !== JSON.stringify(before[field]))
          : [];
        return (
          <li key={revision.revision}>
            <p>
              <strong>Version {revision.revision}</strong> · {formatWhen(revision.at)}
              {revision.by?.display_name ? ` · ${revision.by.display_name}` : ""}
            </p>
            {before ? (
              <ul>
                {changed.map((field) => (
                  <li key={field}>
                    {FIELD_WORDS[field]}: <span class="was">{showValue(field, before[field])}</span> →{" "}
                    {showValue(field, revision[field])}
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">First saved.</p>
            )}
          </li>
        );
      })}
    </ol>
  );
}

function IncidentFacts({ incident }: { incident: Incident }) {
  return (
    <Definition
      items={[
        ["When", formatWhen(incident.occurred_at) + (incident.time_is_approximate ? " (roughly)" : "")],
        ["Until", incident.occurred_until ? formatWhen(incident.occurred_until) : ""],
        ["What kind", incident.behaviours.map(behaviourLabel).join(", ")],
        ["How it reached you", incident.channel ? channelLabel(incident.channel) : ""],
        ["Where", incident.location],
        ["What happened", incident.description ? <p class="prose">{incident.description}</p> : ""],
        ["Who else saw or heard it", incident.witnesses],
        ["How it made you feel", incident.feelings],
        ["Crime references", incident.crime_references.join(", ")],
        ["First saved", formatWhen(incident.recorded_at)],
      ]}
    />
  );
}

function ImpactFacts({ note }: { note: ImpactNote }) {
  return (
    <Definition
      items={[
        ["Date", formatWhen(note.noted_at)],
        ["Parts of life affected", note.areas.map(areaLabel).join(", ")],
        ["What has changed", <p class="prose">{note.description}</p>],
        ["First saved", formatWhen(note.recorded_at)],
      ]}
    />
  );
}

function ReportFacts({ report }: { report: PoliceReport }) {
  return (
    <Definition
      items={[
        ["Crime reference", report.crime_reference || "None yet"],
        ["Reported", formatWhen(report.reported_at)],
        ["How", methodLabel(report.method)],
        ["Police force", report.force],
        ["Officer", report.officer],
        ["Notes", report.notes ? <p class="prose">{report.notes}</p> : ""],
        ["Incidents it covers", String(report.incident_ids.length)],
      ]}
    />
  );
}

function metadataOf(evidence: Evidence): [string, string][] {
  const claims = evidence.metadata ?? evidence.file_metadata ?? {};
  return Object.entries(claims)
    .filter(([, value]) => value !== null && value !== undefined && typeof value !== "object")
    .slice(0, 12)
    .map(([name, value]) => [name.replace(/_/g, " "), String(value)]);
}

/** A preview fetched with the session's proof (an <img src> could not send it). */
function Preview(props: { url: string; alt: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    const stop = new AbortController();
    let made: string | null = null;
    downloadWithProgress(props.url, () => undefined, stop.signal)
      .then(({ blob }) => {
        made = URL.createObjectURL(blob);
        setSrc(made);
      })
      .catch(() => undefined);
    return () => {
      stop.abort();
      if (made) URL.revokeObjectURL(made);
    };
  }, [props.url]);
  return src ? <img class="thumb" src={src} alt={props.alt} /> : null;
}

function DownloadOriginal(props: { url: string; filename: string }) {
  const [state, setState] = useState<string | null>(null);
  async function save() {
    setState("Downloading…");
    try {
      const { blob } = await downloadWithProgress(props.url, (received, total) =>
        setState(total ? `Downloading… ${Math.floor((received / total) * 100)} %` : "Downloading…"),
      );
      saveBlob(blob, props.filename);
      setState(null);
    } catch (error) {
      setState(describeError(error));
    }
  }
  return (
    <>
      <button type="button" class="button secondary" onClick={() => void save()}>
        Download the original
      </button>
      {state && <p role="status">{state}</p>}
    </>
  );
}

function EvidenceFacts({ evidence, contentUrl, thumbnailUrl }: { evidence: Evidence; contentUrl: string; thumbnailUrl?: string }) {
  const claims = metadataOf(evidence);
  return (
    <>
      {thumbnailUrl && evidence.has_thumbnail && <Preview url={thumbnailUrl} alt={`Preview of ${evidence.original_filename}`} />}
      <Definition
        items={[
          ["File", evidence.original_filename],
          ["Type", evidence.media_type],
          ["Size", formatBytes(evidence.size)],
          ["Description", evidence.description],
          ["Taken", evidence.captured_at ? `${formatWhen(evidence.captured_at)} (as the file says)` : ""],
          ["Uploaded", formatWhen(evidence.uploaded_at)],
          [
            "Arrived unchanged",
            evidence.client_sha256_matches === true
              ? "Yes: the phone's check and the server's match"
              : evidence.client_sha256_matches === false
                ? "No"
                : "Not checked by the phone",
          ],
          ["SHA-256", <code class="hash">{evidence.sha256}</code>],
        ]}
      />
      {claims.length > 0 && (
        <details>
          <summary>What the file says about itself</summary>
          <Definition items={claims} />
        </details>
      )}
      <DownloadOriginal url={contentUrl} filename={evidence.original_filename} />
    </>
  );
}

function Withdraw(props: { resource: string; id: string; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  if (!open)
    return (
      <button type="button" class="button plain" onClick={() => setOpen(true)}>
        Withdraw this
      </button>
    );
  return (
    <form
      class="panel"
      onSubmit={async (event) => {
        event.preventDefault();
        if (!reason.trim()) {
          setError("Say why, in a few words.");
          return;
        }
        try {
          await del(`/${props.resource}/${props.id}`, { reason: reason.trim() });
          props.onDone();
        } catch (failure) {
          setError(describeError(failure));
        }
      }}
    >
      <p>
        Withdrawing keeps it in your records with your reason, but leaves it off your timeline and evidence packs. It is not
        deleted.
      </p>
      <TextArea label="Why are you withdrawing it?" value={reason} onValue={setReason} rows={2} error={error ?? undefined} />
      <div class="row">
        <button type="submit" class="button danger">
          Withdraw
        </button>
        <button type="button" class="button plain" onClick={() => setOpen(false)}>
          Keep it
        </button>
      </div>
    </form>
  );
}

function EvidenceLinks(props: { ids: string[]; load: (id: string) => Promise<Evidence>; open: (id: string) => void }) {
  const [files, setFiles] = useState<Evidence[] | null>(null);
  useEffect(() => {
    Promise.all(props.ids.slice(0, 30).map((id) => props.load(id).catch(() => null))).then((found) =>
      setFiles(found.filter((file): file is Evidence => !!file)),
    );
  }, [props.ids.join()]);
  if (!props.ids.length) return <p class="muted">No files yet.</p>;
  if (!files) return <Loading />;
  return (
    <ul class="items">
      {files.map((file) => (
        <li key={file.id}>
          <button type="button" class="item open" onClick={() => props.open(file.id)}>
            <span class="kind">{file.media_type}</span>
            <span class="summary">{file.original_filename}</span>
            <span class="when">{formatBytes(file.size)}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

function failureOf(error: unknown): string {
  if (error instanceof ApiError && error.status === 404) return "This is not here any more.";
  if (error instanceof NotLoaded) return error.message;
  return describeError(error);
}

class NotLoaded extends Error {}

/** One record: what it says, its earlier versions, its files; for the victim or an advocate. */
export function ItemDetail(props: { kind: string; id: string; caseId?: string }) {
  const { kind, id, caseId } = props;
  const [record, setRecord] = useState<AnyRecord | null>(null);
  const [revisions, setRevisions] = useState<Revision[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [withdrawn, setWithdrawn] = useState(false);
  const resource = RESOURCE_OF[kind];
  const casePath = caseId ? `/cases/${caseId}` : "";

  useEffect(() => {
    setRecord(null);
    setFailure(null);
    const load = async (): Promise<AnyRecord> => {
      if (!caseId) return get<AnyRecord>(`/${resource}/${id}`);
      if (kind === "incident") return get<AnyRecord>(`${casePath}/incidents/${id}`);
      if (kind === "evidence") return get<AnyRecord>(`${casePath}/evidence/${id}`);
      const seen = seenItems.get(id);
      if (seen) return { ...seen.data, id } as AnyRecord;
      throw new NotLoaded("Open this from the case's timeline.");
    };
    load()
      .then(setRecord)
      .catch((error) => setFailure(failureOf(error)));
    if (!caseId && resource)
      get<Revision[]>(`/${resource}/${id}/revisions`)
        .then(setRevisions)
        .catch(() => setRevisions([]));
  }, [kind, id, caseId]);

  const openEvidence = (evidenceId: string) =>
    navigate(caseId ? "case-item" : "item", caseId ? { caseId, kind: "evidence", id: evidenceId } : { kind: "evidence", id: evidenceId });

  let body: ComponentChildren = null;
  if (record) {
    if (kind === "incident") body = <IncidentFacts incident={record as unknown as Incident} />;
    else if (kind === "impact_note") body = <ImpactFacts note={record as unknown as ImpactNote} />;
    else if (kind === "police_report") body = <ReportFacts report={record as unknown as PoliceReport} />;
    else if (kind === "evidence")
      body = (
        <EvidenceFacts
          evidence={record as unknown as Evidence}
          contentUrl={`${API}${casePath}/evidence/${id}/content`}
          thumbnailUrl={caseId ? undefined : `${API}/evidence/${id}/thumbnail`}
        />
      );
  }
  const editRoute: Record<string, string> = { incident: "edit-incident", impact_note: "edit-impact", police_report: "edit-police" };

  return (
    <Screen title={KIND_WORDS[kind] ?? "Record"}>
      {failure && <Notice kind="error">{failure}</Notice>}
      {withdrawn && <Notice kind="ok">Withdrawn. It is kept with your reason, and left off the timeline and packs.</Notice>}
      {!record && !failure && <Loading />}
      {record?.withdrawn === true && !withdrawn && (
        <Notice kind="warn">Withdrawn: {String(record.withdrawn_reason ?? "")}</Notice>
      )}
      {body}
      {record && kind === "incident" && (
        <section aria-labelledby="files">
          <h2 id="files">Files</h2>
          <EvidenceLinks
            ids={(record.evidence_ids as string[]) ?? []}
            load={(evidenceId) => get<Evidence>(`${casePath}/evidence/${evidenceId}`)}
            open={openEvidence}
          />
          {!caseId && (
            <Go to="evidence" params={{ incident: id }}>
              Add photos or files
            </Go>
          )}
        </section>
      )}
      {!caseId && revisions && (
        <section aria-labelledby="versions">
          <h2 id="versions">Earlier versions</h2>
          <Revisions revisions={revisions} />
        </section>
      )}
      {!caseId && record && !record.withdrawn && !withdrawn && (
        <div class="stack">
          {editRoute[kind] && (
            <Go to={editRoute[kind]} params={{ id }}>
              {kind === "incident" ? "Add more detail or change it" : "Change it"}
            </Go>
          )}
          {kind === "evidence" && <EditDescription id={id} current={String(record.description ?? "")} onSaved={setRecord} />}
          <Withdraw resource={resource} id={id} onDone={() => setWithdrawn(true)} />
        </div>
      )}
      <Go to={caseId ? "case" : "timeline"} params={caseId ? { id: caseId } : {}} variant="plain">
        Back to the timeline
      </Go>
    </Screen>
  );
}

function EditDescription(props: { id: string; current: string; onSaved: (record: AnyRecord) => void }) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState(props.current);
  const [error, setError] = useState<string | null>(null);
  if (!open)
    return (
      <button type="button" class="button secondary" onClick={() => setOpen(true)}>
        Change the description
      </button>
    );
  return (
    <form
      class="panel"
      onSubmit={async (event) => {
        event.preventDefault();
        try {
          props.onSaved(await patch<AnyRecord>(`/evidence/${props.id}`, { description: text.trim() }));
          setOpen(false);
        } catch (failure) {
          setError(describeError(failure));
        }
      }}
    >
      <TextArea label="What this file shows" value={text} onValue={setText} rows={3} error={error ?? undefined} />
      <button type="submit" class="button primary">
        Save
      </button>
    </form>
  );
}
