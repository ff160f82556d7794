import { PendingList } from "../components/lists";
import { TimelineView } from "../components/timeline";
import { Screen } from "../components/ui";
import { navigate } from "../lib/router";
import { appStore } from "../lib/session";
import { useStore } from "../lib/store";

export function Timeline() {
  const { pending } = useStore(appStore);
  return (
    <Screen title="Everything so far">
      {pending.length > 0 && (
        <section aria-labelledby="waiting-heading">
          <h2 id="waiting-heading">Waiting to be sent</h2>
          <PendingList entries={pending} />
        </section>
      )}
      <TimelineView path="/timeline" onOpen={(item) => navigate("item", { kind: item.kind, id: item.id })} />
    </Screen>
  );
}
