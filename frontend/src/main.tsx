import { render } from "preact";
import { App } from "./app";
import { keepFocusInView } from "./lib/focus";
import { followHistory, neutralAddress } from "./lib/router";
import { installPrivacyScreen, installQuickExit } from "./lib/safety";
import { boot, leaveNow } from "./lib/session";
import "./style.css";

installQuickExit(document, leaveNow);
installPrivacyScreen();
keepFocusInView();
neutralAddress();
followHistory();
render(<App />, document.getElementById("app")!);
void boot();

// The service worker keeps the app itself (never anyone's records) so it opens offline.
if ("serviceWorker" in navigator && import.meta.env.PROD) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => undefined);
  });
}
