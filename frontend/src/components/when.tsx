// When something happened, in as few steps as the moment allows. "Now" is the default for a new
// incident: one line to read and one button, nothing to type. Otherwise a day and a time, each in
// its own labelled box (the phone's own pickers), side by side on a phone and one under the other
// when zoomed, with "Now" to go back and "about" for a time that is not exact. One group, named
// by its legend, so a screen reader says "When did it happen?, Day".

import { useEffect, useId, useRef } from "preact/hooks";
import { toDateInput } from "../lib/format";
import { describeMoment, joinMoment, splitMoment } from "../lib/when";
import { Checkbox } from "./ui";

export function WhenField(props: {
  legend: string;
  hint?: string;
  value: string;
  onValue: (value: string) => void;
  error?: string;
  /** Offer "now" (the start of an incident): `isNow` says it is chosen. */
  now?: { isNow: boolean; onNow: (isNow: boolean, value: string) => void };
  /** "About": the time is not exact. */
  approximate?: { checked: boolean; onChange: (on: boolean) => void };
  /** A time given alone is on this day (an end time on the day it started). */
  sameDay?: string;
}) {
  const id = useId();
  const day = useRef<HTMLInputElement>(null);
  const change = useRef<HTMLButtonElement>(null);
  const moved = useRef(false);
  const isNow = !!props.now?.isNow;
  useEffect(() => {
    // The button that was pressed has gone: focus goes where the person's next step is.
    if (!moved.current) return;
    moved.current = false;
    (isNow ? change.current : day.current)?.focus();
  }, [isNow]);

  const hintId = props.hint ? `${id}-hint` : undefined;
  const errorId = props.error ? `${id}-error` : undefined;
  const nowId = `${id}-now`;
  const { date, time } = splitMoment(props.value);
  const set = (parts: { date?: string; time?: string }) => props.onValue(joinMoment({ date, time, ...parts }, props.sameDay));

  return (
    <fieldset
      class={`field when${props.error ? " has-error" : ""}`}
      aria-describedby={[hintId, errorId].filter(Boolean).join(" ") || undefined}
    >
      <legend>{props.legend}</legend>
      {props.hint && (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="error" id={errorId}>
          {props.error}
        </p>
      )}
      {isNow ? (
        <div class="when-now">
          <p id={nowId}>{describeMoment(props.value)}</p>
          <button
            type="button"
            class="button small secondary"
            ref={change}
            aria-describedby={nowId}
            onClick={() => {
              moved.current = true;
              props.now?.onNow(false, props.value);
            }}
          >
            Change the day or time
          </button>
        </div>
      ) : (
        <>
          <div class="pair">
            <div class="field">
              <label for={`${id}-day`}>Day</label>
              <input
                id={`${id}-day`}
                ref={day}
                type="date"
                max={toDateInput(new Date())}
                value={date}
                aria-invalid={props.error ? true : undefined}
                onInput={(event) => set({ date: event.currentTarget.value })}
              />
            </div>
            <div class="field">
              <label for={`${id}-time`}>Time</label>
              <input
                id={`${id}-time`}
                type="time"
                value={time}
                aria-invalid={props.error ? true : undefined}
                onInput={(event) => set({ time: event.currentTarget.value })}
              />
            </div>
          </div>
          {props.now && (
            <button
              type="button"
              class="button small secondary when-use-now"
              onClick={() => {
                moved.current = true;
                const moment = new Date();
                props.now?.onNow(true, joinMoment({ date: toDateInput(moment), time: moment.toTimeString().slice(0, 5) }));
              }}
            >
              Use the time now
            </button>
          )}
          {props.approximate && (
            <Checkbox label="About then: the time is not exact" checked={props.approximate.checked} onChange={props.approximate.onChange} />
          )}
        </>
      )}
    </fieldset>
  );
}
