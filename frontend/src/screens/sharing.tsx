import { useEffect, useState } from "preact/hooks";
import { Checkbox, Loading, Notice, Screen, TextInput } from "../components/ui";
import { ApiError, del, describeError, get, post } from "../lib/api";
import { formatAgo, formatDay } from "../lib/format";
import type { Page, Share } from "../lib/types";

export function Sharing() {
  const [shares, setShares] = useState<Share[] | null>(null);
  const [code, setCode] = useState("");
  const [canExport, setCanExport] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);

  const load = () =>
    get<Page<Share>>("/shares")
      .then((page) => setShares(page.items))
      .catch((failure) => setError(describeError(failure)));
  useEffect(() => void load(), []);

  async function share(event: Event) {
    event.preventDefault();
    setError(null);
    setMessage(null);
    if (!code.trim()) {
      setError("Enter the code your advocate gave you.");
      return;
    }
    try {
      const made = await post<Share>("/shares", { code: code.trim(), can_export: canExport });
      setMessage(`${made.advocate.display_name} can now see your notes.`);
      setCode("");
      setCanExport(false);
      await load();
    } catch (failure) {
      setError(
        failure instanceof ApiError && failure.status === 422
          ? "That code did not work. Check it with your advocate; codes work once and run out after a few days."
          : describeError(failure),
      );
    }
  }

  async function revoke(share: Share) {
    try {
      await del(`/shares/${share.id}`);
      setMessage(`${share.advocate.display_name} can no longer see your notes.`);
      setConfirming(null);
      await load();
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  return (
    <Screen
      title="Share with an advocate"
      lead="An advocate from a support service can read your notes and files and add notes of their own. They cannot change or delete anything. You can stop sharing at any time."
    >
      {message && <Notice kind="ok">{message}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      <form onSubmit={share} noValidate class="panel">
        <TextInput
          label="The code your advocate gave you"
          value={code}
          onValue={setCode}
          autoComplete="off"
          autoCapitalize="characters"
          spellcheck={false}
          maxLength={64}
        />
        <Checkbox
          label="They may make an evidence pack for the police"
          hint="You can always make one yourself."
          checked={canExport}
          onChange={setCanExport}
        />
        <button type="submit" class="button primary">
          Share
        </button>
      </form>
      <h2>Who can see your notes</h2>
      {!shares && !error && <Loading />}
      {shares && !shares.length && <p class="muted">Nobody. Your notes are private to you.</p>}
      {shares && shares.length > 0 && (
        <ul class="items">
          {shares.map((share) => (
            <li key={share.id} class="item">
              <span class="summary">
                <strong>{share.advocate.display_name}</strong>
                {share.advocate.organisation ? `, ${share.advocate.organisation}` : ""}
              </span>
              <span class="when">
                Since {formatDay(share.since)} · last looked {formatAgo(share.last_viewed_at)}
              </span>
              <span class="muted">{share.can_export ? "May make evidence packs" : "Cannot make evidence packs"}</span>
              {confirming === share.id ? (
                <div class="row">
                  <button type="button" class="button danger small" onClick={() => void revoke(share)}>
                    Yes, stop sharing
                  </button>
                  <button type="button" class="button plain small" onClick={() => setConfirming(null)}>
                    Cancel
                  </button>
                </div>
              ) : (
                <button type="button" class="button secondary small" onClick={() => setConfirming(share.id)}>
                  Stop sharing<span class="visually-hidden"> with {share.advocate.display_name}</span>
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </Screen>
  );
}
