// Around every screen: the quick exit, 999 one tap away, and what is waiting to be sent.

import type { ComponentChildren } from "preact";
import { countOf } from "../lib/format";
import { navigate } from "../lib/router";
import { appStore, leaveNow } from "../lib/session";
import { useStore } from "../lib/store";
import { uploadStore } from "../lib/uploads";

export function Shell(props: { children: ComponentChildren }) {
  const { user, online, pending } = useStore(appStore);
  const { items } = useStore(uploadStore);
  const waiting = pending.filter((entry) => entry.state === "waiting").length;
  const files = items.filter((item) => item.status !== "done" && item.status !== "failed").length;
  const home = user ? (user.role === "victim" ? "home" : "cases") : "signin";
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="bar">
        <button type="button" class="brand" onClick={() => navigate(home)}>
          <span aria-hidden="true" class="brand-mark" />
          Notes<span class="visually-hidden"> – home</span>
        </button>
        <a class="call" href="tel:999" aria-label="Call 999">
          999
        </a>
        <button type="button" class="exit" onClick={leaveNow}>
          Quick exit
        </button>
        <div class={`sync ${online ? "" : "offline"}`} role="status">
          {user && !online && <span>You are offline. What you log is kept on this phone. </span>}
          {user && waiting > 0 && <span>{countOf(waiting, "thing")} waiting to be sent. </span>}
          {user && files > 0 && <span>{countOf(files, "file")} not yet saved on the server.</span>}
        </div>
      </header>
      <main id="main">{props.children}</main>
      <footer class="foot">
        <p>
          Press <kbd>Esc</kbd> or Quick exit to leave at once.
        </p>
      </footer>
    </>
  );
}
