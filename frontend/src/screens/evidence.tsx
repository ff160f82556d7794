import { useEffect, useState } from "preact/hooks";
import { UploadList } from "../components/lists";
import { Notice, Screen, TextArea } from "../components/ui";
import { get } from "../lib/api";
import { behaviourLabel } from "../lib/codes";
import { formatWhen } from "../lib/format";
import { navigate } from "../lib/router";
import { useStore } from "../lib/store";
import type { Incident, Page } from "../lib/types";
import { addFiles, clearFinished, uploadStore } from "../lib/uploads";

export function AddEvidence(props: { incident?: string }) {
  const { items } = useStore(uploadStore);
  const [description, setDescription] = useState("");
  const [incident, setIncident] = useState(props.incident ?? "");
  const [incidents, setIncidents] = useState<Incident[]>([]);
  const [added, setAdded] = useState<number | null>(null);

  useEffect(() => {
    get<Page<Incident>>("/incidents?order=desc&limit=50")
      .then((page) => setIncidents(page.items))
      .catch(() => setIncidents([]));
  }, []);

  async function chosen(list: FileList | null, input: HTMLInputElement) {
    const files = Array.from(list ?? []);
    if (!files.length) return;
    await addFiles(files, { description, incidentIds: incident ? [incident] : [] });
    setAdded(files.length);
    setDescription("");
    input.value = "";
  }

  return (
    <Screen
      title="Add photos or files"
      lead="Screenshots, photos, videos, voicemails, call logs, emails. Each file is kept exactly as it is, with a check that proves it has not changed."
    >
      <TextArea
        label="What does it show? (optional)"
        hint="For example: his car outside my house, taken from the upstairs window."
        value={description}
        onValue={setDescription}
        rows={2}
        maxLength={20000}
      />
      <div class="field">
        <label for="evidence-incident">Which incident is it for? (optional)</label>
        <select id="evidence-incident" value={incident} onChange={(event) => setIncident(event.currentTarget.value)}>
          <option value="">Not linked to one</option>
          {props.incident && !incidents.some((item) => item.id === props.incident) && (
            <option value={props.incident}>The incident you just logged</option>
          )}
          {incidents.map((item) => (
            <option key={item.id} value={item.id}>
              {formatWhen(item.occurred_at)} – {item.behaviours.map(behaviourLabel).join(", ")}
            </option>
          ))}
        </select>
      </div>
      <div class="pick">
        <label class="button primary file-button" for="take">
          Take a photo or video
        </label>
        <input
          id="take"
          class="visually-hidden"
          type="file"
          accept="image/*,video/*"
          capture="environment"
          onChange={(event) => void chosen(event.currentTarget.files, event.currentTarget)}
        />
        <label class="button secondary file-button" for="choose">
          Choose files
        </label>
        <input
          id="choose"
          class="visually-hidden"
          type="file"
          multiple
          onChange={(event) => void chosen(event.currentTarget.files, event.currentTarget)}
        />
      </div>
      {added !== null && <Notice kind="ok">Added. Files keep going if you leave this screen or lose signal.</Notice>}
      {items.length > 0 && (
        <section aria-labelledby="files-heading">
          <h2 id="files-heading">Files</h2>
          <UploadList items={items} onOpen={(id) => navigate("item", { kind: "evidence", id })} />
          {items.some((item) => item.status === "done") && (
            <button type="button" class="button plain" onClick={clearFinished}>
              Clear finished
            </button>
          )}
        </section>
      )}
    </Screen>
  );
}
