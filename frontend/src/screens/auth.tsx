import { useState } from "preact/hooks";
import { ErrorSummary, Notice, Screen, TextInput } from "../components/ui";
import { ApiError, describeError, send } from "../lib/api";
import { payLogout } from "../lib/logout";
import { navigate } from "../lib/router";
import { appStore, signedIn } from "../lib/session";
import { useStore } from "../lib/store";
import type { User } from "../lib/types";

type SignedInUser = User & { session_proof?: string };

export function SignIn() {
  const { notice } = useStore(appStore);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // A sign-out still owed goes first: this sign-in replaces the cookie it needs.
      await payLogout();
      const user = (
        await send<SignedInUser>("POST", "/auth/login", { email, password, session_proof: true }, { quietAuth: true })
      ).body;
      await signedIn(user, password);
    } catch (failure) {
      setError(failure instanceof ApiError && failure.status === 422 ? "Enter your email and password." : describeError(failure));
      setAttempt((n) => n + 1);
      setBusy(false);
    }
  }

  return (
    <Screen title="Sign in">
      {notice && <Notice>{notice}</Notice>}
      <form onSubmit={submit} noValidate>
        <ErrorSummary message={error} attempt={attempt} />
        <TextInput label="Email" type="email" autoComplete="username" value={email} onValue={setEmail} required />
        <TextInput
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onValue={setPassword}
          required
        />
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <h2>New here?</h2>
      <p>A private place to write down what is happening, keep photos and files, and share them with someone who is helping you.</p>
      <button type="button" class="button secondary" onClick={() => navigate("signup")}>
        Make an account
      </button>
    </Screen>
  );
}

export function SignUp() {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setErrors({});
    try {
      await payLogout();
      const user = (
        await send<SignedInUser>(
          "POST",
          "/auth/register",
          { email, password, display_name: name, session_proof: true },
          { quietAuth: true },
        )
      ).body;
      await signedIn(user, password);
    } catch (failure) {
      if (failure instanceof ApiError && Object.keys(failure.fields).length) {
        setErrors(failure.fields);
        setError("Your account was not made. Please check:");
      } else if (failure instanceof ApiError && failure.status === 409)
        setError("That email cannot be used for a new account. If it is yours, sign in instead.");
      else setError(describeError(failure));
      setAttempt((n) => n + 1);
      setBusy(false);
    }
  }

  return (
    <Screen title="Make an account">
      <form onSubmit={submit} noValidate>
        <ErrorSummary
          message={error}
          fields={errors}
          labels={{ display_name: "Your name", email: "Email", password: "Password" }}
          attempt={attempt}
        />
        <TextInput
          label="Your name"
          hint="Any name you like. Someone you choose to share with will see it."
          autoComplete="nickname"
          value={name}
          onValue={setName}
          error={errors.display_name}
          required
        />
        <TextInput
          label="Email"
          hint="Use an email address that only you can read."
          type="email"
          autoComplete="username"
          value={email}
          onValue={setEmail}
          error={errors.email}
          required
        />
        <TextInput
          label="Password"
          hint="At least 12 characters. Three or four unrelated words work well. Avoid anything someone who knows you could guess."
          type="password"
          autoComplete="new-password"
          value={password}
          onValue={setPassword}
          error={errors.password}
          required
        />
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? "Making your account…" : "Make my account"}
        </button>
      </form>
      <button type="button" class="button plain" onClick={() => navigate("signin")}>
        I already have an account
      </button>
    </Screen>
  );
}
