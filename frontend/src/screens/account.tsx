import { useEffect, useState } from "preact/hooks";
import { Checkbox, Loading, Notice, Screen, TextInput } from "../components/ui";
import { ApiError, del, describeError, get, post } from "../lib/api";
import { countOf, formatAgo, formatWhen } from "../lib/format";
import { exitSignsOut, setExitSignsOut } from "../lib/safety";
import { appStore, signOut } from "../lib/session";
import { useStore } from "../lib/store";
import type { AuditEvent, AuthSession, Page } from "../lib/types";
import { uploadStore } from "../lib/uploads";

function Devices() {
  const [sessions, setSessions] = useState<AuthSession[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    get<Page<AuthSession>>("/auth/sessions")
      .then((page) => setSessions(page.items))
      .catch((failure) => setError(describeError(failure)));
  useEffect(() => void load(), []);

  async function endOne(session: AuthSession) {
    try {
      await del(`/auth/sessions/${session.id}`);
      setMessage(`Signed out ${session.device}.`);
      await load();
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  async function everywhere() {
    try {
      await post("/auth/sessions/revoke-others");
      await signOut({ reason: "chosen" });
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  return (
    <section aria-labelledby="devices">
      <h2 id="devices">Where you are signed in</h2>
      <p class="hint">If you see a device that is not yours, sign it out and change your password.</p>
      {message && <Notice kind="ok">{message}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      {!sessions && !error && <Loading />}
      {sessions && (
        <ul class="items">
          {sessions.map((session) => (
            <li key={session.id} class="item">
              <span class="summary">
                <strong>{session.device}</strong>
                {session.current ? " (this device)" : ""}
              </span>
              <span class="when">
                Signed in {formatWhen(session.created_at)} · last used {formatAgo(session.last_used_at)}
              </span>
              {!session.current && (
                <button type="button" class="button secondary small" onClick={() => void endOne(session)}>
                  Sign out<span class="visually-hidden"> {session.device}</span>
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <button type="button" class="button secondary" onClick={() => void everywhere()}>
        Sign out everywhere
      </button>
    </section>
  );
}

function ChangePassword() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setErrors({});
    setError(null);
    setMessage(null);
    try {
      const { revoked } = await post<{ revoked: number }>("/auth/password", { current_password: current, new_password: next });
      setCurrent("");
      setNext("");
      setMessage(`Password changed.${revoked ? ` ${countOf(revoked, "other device")} signed out.` : ""}`);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 403) setErrors({ current_password: "That is not your current password." });
      else if (failure instanceof ApiError && Object.keys(failure.fields).length)
        setErrors({ new_password: failure.fields.password ?? failure.fields.new_password ?? Object.values(failure.fields)[0] });
      else setError(describeError(failure));
    }
  }

  return (
    <section aria-labelledby="password">
      <h2 id="password">Change your password</h2>
      <form onSubmit={submit} noValidate>
        {message && <Notice kind="ok">{message}</Notice>}
        {error && <Notice kind="error">{error}</Notice>}
        <TextInput
          label="Current password"
          type="password"
          autoComplete="current-password"
          value={current}
          onValue={setCurrent}
          error={errors.current_password}
        />
        <TextInput
          label="New password"
          hint="At least 12 characters; three or four unrelated words work well. Every other device is signed out."
          type="password"
          autoComplete="new-password"
          value={next}
          onValue={setNext}
          error={errors.new_password}
        />
        <button type="submit" class="button primary">
          Change password
        </button>
      </form>
    </section>
  );
}

function Activity() {
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (open && !events)
      get<Page<AuditEvent>>("/audit?limit=30")
        .then((page) => setEvents(page.items))
        .catch(() => setEvents([]));
  }, [open]);
  return (
    <details onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>Who has done what with your notes</summary>
      {!events && <Loading />}
      {events && (
        <ul class="plain-list">
          {events.map((event) => (
            <li key={event.seq}>
              <span class="when">{formatWhen(event.at)}</span> {event.description}
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

function Erase() {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<string | null>(null);

  async function erase(event: Event) {
    event.preventDefault();
    setError(null);
    if (confirm.trim().toLowerCase() !== "erase") {
      setError("Type ERASE to confirm.");
      return;
    }
    try {
      await del("/account", { password });
      await signOut({ reason: "erased" });
    } catch (failure) {
      setError(failure instanceof ApiError && failure.status === 403 ? "That password is not right." : describeError(failure));
    }
  }

  return (
    <section aria-labelledby="erase" class="danger-zone">
      <h2 id="erase">Erase your account</h2>
      <p>
        This deletes everything: every incident, note, police report, file and share, on the server and on this phone. It cannot
        be undone, and nobody, including the people who run this service, can get it back.
      </p>
      <p>
        <strong>Before you do:</strong> if you may need this for the police or a court, download an evidence pack first and keep
        it somewhere safe.
      </p>
      {!open ? (
        <button type="button" class="button danger" onClick={() => setOpen(true)}>
          Erase my account…
        </button>
      ) : (
        <form onSubmit={erase} noValidate>
          {error && <Notice kind="error">{error}</Notice>}
          <TextInput label="Your password" type="password" autoComplete="current-password" value={password} onValue={setPassword} />
          <TextInput label="Type ERASE to confirm" value={confirm} onValue={setConfirm} autoComplete="off" />
          <div class="row">
            <button type="submit" class="button danger">
              Erase everything for good
            </button>
            <button type="button" class="button plain" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

function SignOutHere() {
  const { pending } = useStore(appStore);
  const { items } = useStore(uploadStore);
  const [confirming, setConfirming] = useState(false);
  const unsent = pending.length + items.filter((item) => item.status !== "done").length;
  if (confirming)
    return (
      <div class="panel">
        <Notice kind="warn">
          {countOf(unsent, "thing")} on this phone {unsent === 1 ? "has" : "have"} not been sent yet. Signing out removes{" "}
          {unsent === 1 ? "it" : "them"} from this phone, so {unsent === 1 ? "it" : "they"} will be lost.
        </Notice>
        <div class="row">
          <button type="button" class="button danger" onClick={() => void signOut({ reason: "chosen" })}>
            Sign out anyway
          </button>
          <button type="button" class="button plain" onClick={() => setConfirming(false)}>
            Stay signed in
          </button>
        </div>
      </div>
    );
  return (
    <button type="button" class="button primary" onClick={() => (unsent ? setConfirming(true) : void signOut({ reason: "chosen" }))}>
      Sign out
    </button>
  );
}

function QuickExitOption() {
  const [on, setOn] = useState(exitSignsOut());
  return (
    <Checkbox
      label="Quick exit signs me out too"
      hint="Recommended. Things not yet sent stay on this phone, locked, until you sign in again."
      checked={on}
      onChange={(value) => {
        setExitSignsOut(value);
        setOn(value);
      }}
    />
  );
}

export function Account() {
  const { user } = useStore(appStore);
  return (
    <Screen title="Account and safety">
      <p>
        Signed in as <strong>{user?.display_name}</strong>. Signing out removes everything this app keeps on this phone. The app
        also signs you out by itself when it is not used for a while.
      </p>
      <SignOutHere />
      <QuickExitOption />
      <Devices />
      <ChangePassword />
      {user?.role === "victim" && (
        <section aria-labelledby="activity">
          <h2 id="activity">Activity</h2>
          <Activity />
        </section>
      )}
      {user?.role === "victim" && <Erase />}
    </Screen>
  );
}
