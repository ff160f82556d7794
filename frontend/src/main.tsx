import { render } from "preact";
import { App } from "./app";
import { neutralAddress } from "./lib/router";
import { installQuickExit } from "./lib/safety";
import { boot } from "./lib/session";
import "./style.css";

installQuickExit();
neutralAddress();
render(<App />, document.getElementById("app")!);
void boot();

// The service worker keeps the app itself (never anyone's records) so it opens offline.
if ("serviceWorker" in navigator && import.meta.env.PROD) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => undefined);
  });
}
