// Small building blocks: labelled fields, chips, buttons, notices. Every control has a visible
// label, a 44 px target and an error tied to it with aria-describedby.

import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";
import { navigate } from "../lib/router";

export function Screen(props: { title: string; children: ComponentChildren; lead?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // A new screen: put focus on its heading, so a screen reader starts reading there.
    heading.current?.focus({ preventScroll: true });
  }, [props.title]);
  return (
    <>
      <h1 tabIndex={-1} ref={heading} id="screen-title">
        {props.title}
      </h1>
      {props.lead && <p class="lead">{props.lead}</p>}
      {props.children}
    </>
  );
}

interface FieldProps {
  label: string;
  hint?: ComponentChildren;
  error?: string;
  children: (ids: { id: string; describedBy?: string; invalid: boolean }) => ComponentChildren;
}

export function Field({ label, hint, error, children }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div class={`field${error ? " has-error" : ""}`}>
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p class="error" id={errorId}>
          {error}
        </p>
      )}
      {children({ id, describedBy, invalid: !!error })}
    </div>
  );
}

interface InputProps {
  label: string;
  hint?: ComponentChildren;
  error?: string;
  value: string;
  onValue: (value: string) => void;
  type?: "text" | "email" | "password" | "search" | "date" | "datetime-local";
  autoComplete?: string;
  autoCapitalize?: "none" | "off" | "on" | "sentences" | "words" | "characters";
  spellcheck?: boolean;
  max?: string;
  maxLength?: number;
  required?: boolean;
}

export function TextInput({ label, hint, error, value, onValue, type = "text", ...rest }: InputProps) {
  return (
    <Field label={label} hint={hint} error={error}>
      {({ id, describedBy, invalid }) => (
        <input
          id={id}
          // Preact types each input type separately; the union here is checked by InputProps.
          type={type as "text"}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          value={value}
          onInput={(event) => onValue(event.currentTarget.value)}
          {...rest}
        />
      )}
    </Field>
  );
}

interface AreaProps {
  label: string;
  hint?: ComponentChildren;
  error?: string;
  value: string;
  onValue: (value: string) => void;
  rows?: number;
  maxLength?: number;
}

export function TextArea({ label, hint, error, value, onValue, rows = 4, maxLength }: AreaProps) {
  return (
    <Field label={label} hint={hint} error={error}>
      {({ id, describedBy, invalid }) => (
        <textarea
          id={id}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          value={value}
          onInput={(event) => onValue(event.currentTarget.value)}
          rows={rows}
          maxLength={maxLength}
        />
      )}
    </Field>
  );
}

/** A set of checkboxes drawn as chips. */
export function Chips(props: {
  legend: string;
  hint?: string;
  error?: string;
  options: [string, string][];
  chosen: string[];
  onChange: (chosen: string[]) => void;
  name: string;
}) {
  const id = useId();
  const toggle = (code: string, on: boolean) =>
    props.onChange(on ? [...props.chosen.filter((c) => c !== code), code] : props.chosen.filter((c) => c !== code));
  const describedBy = [props.hint ? `${id}-hint` : "", props.error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <fieldset class={`field chips${props.error ? " has-error" : ""}`} aria-describedby={describedBy}>
      <legend>{props.legend}</legend>
      {props.hint && (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="error" id={`${id}-error`}>
          {props.error}
        </p>
      )}
      <div class="chip-list">
        {props.options.map(([code, words]) => (
          <label class="chip" key={code}>
            <input
              type="checkbox"
              name={props.name}
              value={code}
              checked={props.chosen.includes(code)}
              onChange={(event) => toggle(code, event.currentTarget.checked)}
            />
            <span>{words}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function Radios(props: {
  legend: string;
  hint?: string;
  error?: string;
  options: [string, string][];
  value: string;
  onChange: (value: string) => void;
  name: string;
}) {
  const id = useId();
  return (
    <fieldset class={`field chips${props.error ? " has-error" : ""}`} aria-describedby={props.hint ? `${id}-hint` : undefined}>
      <legend>{props.legend}</legend>
      {props.hint && (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error && <p class="error">{props.error}</p>}
      <div class="chip-list">
        {props.options.map(([code, words]) => (
          <label class="chip" key={code}>
            <input
              type="radio"
              name={props.name}
              value={code}
              checked={props.value === code}
              onChange={() => props.onChange(code)}
            />
            <span>{words}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function Checkbox(props: { label: string; hint?: string; checked: boolean; onChange: (on: boolean) => void }) {
  const id = useId();
  return (
    <div class="field check">
      <input
        type="checkbox"
        id={id}
        checked={props.checked}
        onChange={(event) => props.onChange(event.currentTarget.checked)}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
      />
      <label for={id}>{props.label}</label>
      {props.hint && (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

/** A button that goes to another screen. */
export function Go(props: {
  to: string;
  params?: Record<string, string>;
  children: ComponentChildren;
  variant?: "primary" | "secondary" | "big" | "plain" | "tile";
}) {
  return (
    <button type="button" class={`button ${props.variant ?? "secondary"}`} onClick={() => navigate(props.to, props.params ?? {})}>
      {props.children}
    </button>
  );
}

export function Notice(props: { kind?: "info" | "ok" | "warn" | "error"; children: ComponentChildren; live?: boolean }) {
  const kind = props.kind ?? "info";
  return (
    <div class={`notice ${kind}`} role={props.live === false ? undefined : kind === "error" ? "alert" : "status"}>
      {props.children}
    </div>
  );
}

/**
 * What went wrong with a form, announced (role=alert), with focus moved to the first field in
 * error, or to the summary itself when no one field is to blame. `attempt` changes on every
 * failed submit, so a second failure moves focus again.
 */
export function ErrorSummary(props: { message: string | null; fields?: Record<string, string>; labels?: Record<string, string>; attempt: number }) {
  const box = useRef<HTMLDivElement>(null);
  const fields = Object.entries(props.fields ?? {}).filter(([, message]) => message);
  useEffect(() => {
    if (!props.attempt || (!props.message && !fields.length)) return;
    const form = box.current?.parentElement;
    const first = form?.querySelector<HTMLElement>("[aria-invalid=true]");
    (first ?? box.current)?.focus();
    (first ?? box.current)?.scrollIntoView({ block: "center" });
  }, [props.attempt]);
  if (!props.message && !fields.length) return null;
  return (
    <div class="notice error summary" role="alert" tabIndex={-1} ref={box}>
      <p>{props.message ?? "Please check these:"}</p>
      {fields.length > 0 && (
        <ul>
          {fields.map(([name, message]) => (
            <li key={name}>
              {props.labels?.[name] ?? name}: {message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function CourtNote() {
  return (
    <p class="court-note">
      What you write here could be shown in court if there is a case, including to the other side's lawyers. Write it the way you
      remember it. That is all anyone needs.
    </p>
  );
}

export function Loading(props: { what?: string }) {
  return (
    <p class="muted" role="status">
      {props.what ?? "Loading…"}
    </p>
  );
}

export function Definition(props: { items: [string, ComponentChildren][] }) {
  const shown = props.items.filter(([, value]) => value !== null && value !== undefined && value !== "" && value !== false);
  return (
    <dl class="facts">
      {shown.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
