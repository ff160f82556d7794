import { useEffect, useState } from "preact/hooks";
import { BEHAVIOURS, KINDS } from "../lib/codes";
import { describeError, get } from "../lib/api";
import { filterProblem, NO_FILTERS, timelineQuery, type Filters } from "../lib/filters";
import { seenItems } from "../lib/seen";
import type { Page, TimelineItem } from "../lib/types";
import { TimelineList } from "./lists";
import { Checkbox, Chips, Loading, Notice, TextInput } from "./ui";


export function TimelineView(props: { path: string; onOpen: (item: TimelineItem) => void; kinds?: [string, string][] }) {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  const [items, setItems] = useState<TimelineItem[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (changes: Partial<Filters>) => setFilters((current) => ({ ...current, ...changes }));

  async function load(chosen: Filters, after: string | null) {
    setBusy(true);
    setFailure(null);
    try {
      const page = await get<Page<TimelineItem>>(props.path + timelineQuery(chosen, after));
      page.items.forEach((item) => seenItems.set(item.id, item));
      setItems((current) => (after && current ? [...current, ...page.items] : page.items));
      setCursor(page.next_cursor);
    } catch (error) {
      setFailure(describeError(error));
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    void load(NO_FILTERS, null);
  }, [props.path]);

  function apply(event: Event) {
    event.preventDefault();
    const problem = filterProblem(filters);
    if (problem) {
      setFailure(problem);
      return;
    }
    setApplied(filters);
    void load(filters, null);
  }

  function clear() {
    setFilters(NO_FILTERS);
    setApplied(NO_FILTERS);
    void load(NO_FILTERS, null);
  }

  const active = JSON.stringify(applied) !== JSON.stringify(NO_FILTERS);
  return (
    <>
      <form class="filters" onSubmit={apply} role="search" aria-label="Search and filter">
        <div class="search-row">
          <TextInput label="Search" type="search" value={filters.q} onValue={(q) => set({ q })} maxLength={200} />
          <button type="submit" class="button primary">
            Search
          </button>
        </div>
        <details>
          <summary>Filters{active ? " (on)" : ""}</summary>
          <Chips legend="Show" name="kinds" options={props.kinds ?? KINDS} chosen={filters.kinds} onChange={(kinds) => set({ kinds })} />
          <Chips
            legend="Incidents of these kinds"
            name="behaviours"
            options={BEHAVIOURS}
            chosen={filters.behaviours}
            onChange={(behaviours) => set({ behaviours })}
          />
          <div class="pair">
            <TextInput label="From" type="date" value={filters.from} onValue={(from) => set({ from })} />
            <TextInput label="To" type="date" value={filters.to} onValue={(to) => set({ to })} />
          </div>
          <TextInput
            label="Crime reference"
            value={filters.crimeReference}
            onValue={(crimeReference) => set({ crimeReference })}
            maxLength={64}
          />
          <Checkbox label="Newest first" checked={filters.newestFirst} onChange={(newestFirst) => set({ newestFirst })} />
          <button type="submit" class="button primary">
            Apply filters
          </button>
        </details>
        {active && (
          <button type="button" class="button plain" onClick={clear}>
            Clear search and filters
          </button>
        )}
      </form>
      {failure && <Notice kind="error">{failure}</Notice>}
      {!items && busy && <Loading />}
      {items && (
        <p class="muted" role="status">
          {items.length === 0 ? (active ? "Nothing matches these filters." : "Nothing here yet.") : active ? "Filtered." : ""}
        </p>
      )}
      {items && items.length > 0 && <TimelineList items={items} onOpen={props.onOpen} label="Timeline" />}
      {cursor && (
        <button type="button" class="button secondary" disabled={busy} onClick={() => void load(applied, cursor)}>
          {busy ? "Loading…" : "Show more"}
        </button>
      )}
    </>
  );
}
