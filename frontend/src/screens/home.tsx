import { useEffect, useState } from "preact/hooks";
import { PendingList, TimelineList, UploadList } from "../components/lists";
import { Go, Screen } from "../components/ui";
import { get, OfflineError } from "../lib/api";
import { navigate } from "../lib/router";
import { appStore } from "../lib/session";
import { useStore } from "../lib/store";
import type { Page, TimelineItem } from "../lib/types";
import { uploadStore } from "../lib/uploads";

export function Emergency() {
  return (
    <section class="emergency" aria-labelledby="help-now">
      <h2 id="help-now">Help now</h2>
      <ul class="calls">
        <li>
          <a class="button danger call-line" href="tel:999">
            <span>In danger now</span> <strong>Call 999</strong>
          </a>
        </li>
        <li>
          <a class="button secondary call-line" href="tel:101">
            <span>Police, not an emergency</span> <strong>Call 101</strong>
          </a>
        </li>
        <li>
          <a class="button secondary call-line" href="tel:08088020300">
            <span>National Stalking Helpline</span> <strong>0808 802 0300</strong>
          </a>
        </li>
      </ul>
      <p class="hint">If you call 999 and cannot speak, stay on the line and press 55 when asked.</p>
    </section>
  );
}

export function Home() {
  const { user, online, pending } = useStore(appStore);
  const { items: files } = useStore(uploadStore);
  // A file the server has finished with is saved, not waiting: it shows in Recent instead.
  const waitingFiles = files.filter((file) => file.status !== "done");
  const [recent, setRecent] = useState<TimelineItem[] | null>(null);
  const [offline, setOffline] = useState(false);

  useEffect(() => {
    let live = true;
    get<Page<TimelineItem>>("/timeline?order=desc&limit=5")
      .then((page) => live && (setRecent(page.items), setOffline(false)))
      .catch((error) => live && error instanceof OfflineError && setOffline(true));
    return () => {
      live = false;
    };
  }, [online, pending.length, files.filter((file) => file.status === "done").length]);

  return (
    <Screen title={`Hello${user ? `, ${user.display_name}` : ""}`}>
      <button type="button" class="button big primary" onClick={() => navigate("log")}>
        Log something
      </button>
      {(pending.length > 0 || waitingFiles.length > 0) && (
        <section aria-labelledby="waiting" class="waiting">
          <h2 id="waiting">Waiting to be sent</h2>
          <p class="hint">Kept safely on this phone. It is sent as soon as there is a connection.</p>
          <PendingList entries={pending} />
          <UploadList items={waitingFiles} />
        </section>
      )}
      <nav class="tiles" aria-label="More">
        <Go to="impact" variant="tile">
          How it is affecting me
        </Go>
        <Go to="police" variant="tile">
          Police report
        </Go>
        <Go to="evidence" variant="tile">
          Add photos or files
        </Go>
        <Go to="timeline" variant="tile">
          Everything so far
        </Go>
        <Go to="sharing" variant="tile">
          Share with an advocate
        </Go>
        <Go to="export" variant="tile">
          Evidence pack
        </Go>
        <Go to="account" variant="tile">
          Account and safety
        </Go>
      </nav>

      <section aria-labelledby="recent">
        <h2 id="recent">Recent</h2>
        {offline && <p class="muted">You are offline, so recent things cannot be shown. Anything you log now is kept on this phone.</p>}
        {recent && !recent.length && <p class="muted">Nothing logged yet. Whatever you log is kept private.</p>}
        {recent && recent.length > 0 && (
          <>
            <TimelineList items={recent} label="Recent" onOpen={(item) => navigate("item", { kind: item.kind, id: item.id })} />
            <Go to="timeline" variant="plain">
              See everything
            </Go>
          </>
        )}
      </section>
      <Emergency />
    </Screen>
  );
}
