import { useRef, useState } from "preact/hooks";
import { describeError } from "../lib/api";
import { downloadWithProgress, saveBlob } from "../lib/download";
import { filterProblem, packQuery } from "../lib/filters";
import { formatBytes, formatPercent } from "../lib/format";
import { Chips, Notice, TextInput } from "./ui";

const INCLUDE: [string, string][] = [
  ["impact_notes", "Impact notes"],
  ["evidence", "Photos and files"],
  ["advocate_notes", "Advocate notes"],
];

export function ExportForm(props: { path: string }) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [crimeReference, setCrimeReference] = useState("");
  const [exhibitPrefix, setExhibitPrefix] = useState("");
  const [caseLabel, setCaseLabel] = useState("");
  // Advocate notes (risk assessments, safety plans, code words) only when ticked.
  const [include, setInclude] = useState<string[]>(["impact_notes", "evidence"]);
  const [progress, setProgress] = useState<{ received: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);

  async function make(event: Event) {
    event.preventDefault();
    setError(null);
    setDone(null);
    const problem = filterProblem({ from, to });
    if (problem) {
      setError(problem);
      return;
    }
    abort.current = new AbortController();
    setProgress({ received: 0, total: 0 });
    try {
      const { blob, filename } = await downloadWithProgress(
        props.path + packQuery({ from, to, crimeReference, include, exhibitPrefix, caseLabel }),
        (received, total) => setProgress({ received, total }),
        abort.current.signal,
      );
      saveBlob(blob, filename);
      setDone(filename);
    } catch (failure) {
      if (!(failure instanceof DOMException && failure.name === "AbortError")) setError(describeError(failure));
    } finally {
      setProgress(null);
      abort.current = null;
    }
  }

  return (
    <form onSubmit={make} noValidate>
      {error && <Notice kind="error">{error}</Notice>}
      {done && (
        <Notice kind="ok">
          Your pack is downloaded as {done}. It contains a README explaining how anyone can check it has not been changed.
        </Notice>
      )}
      <div class="pair">
        <TextInput label="From (optional)" type="date" value={from} onValue={setFrom} />
        <TextInput label="To (optional)" type="date" value={to} onValue={setTo} />
      </div>
      <TextInput
        label="Only this crime reference (optional)"
        value={crimeReference}
        onValue={setCrimeReference}
        maxLength={64}
        autoComplete="off"
      />
      <TextInput
        label="Letters for exhibit references (optional)"
        hint="Files are numbered AH/1, AH/2… from the initials of whoever exports. Letters only, up to 6."
        value={exhibitPrefix}
        onValue={setExhibitPrefix}
        maxLength={6}
        autoComplete="off"
      />
      <TextInput
        label="Name for the case on every page (optional)"
        hint="Instead of your name, for example a reference the police gave you."
        value={caseLabel}
        onValue={setCaseLabel}
        maxLength={100}
        autoComplete="off"
      />
      <Chips legend="Include" name="include" options={INCLUDE} chosen={include} onChange={setInclude} hint="Incidents and police reports are always included. Advocate notes only if you tick them." />
      {progress ? (
        <div class="panel" role="status">
          <p>
            Making your pack… {progress.total ? `${formatPercent(progress.received, progress.total)} of ${formatBytes(progress.total)}` : ""}
          </p>
          <progress max={progress.total || 1} value={progress.total ? progress.received : undefined} aria-label="Evidence pack download" />
          <button type="button" class="button plain" onClick={() => abort.current?.abort()}>
            Stop
          </button>
        </div>
      ) : (
        <button type="submit" class="button primary big">
          Download the pack
        </button>
      )}
    </form>
  );
}
