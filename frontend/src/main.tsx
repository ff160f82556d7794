import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./style.css";

type Health = { status: string; database: string; storage: string; version: string };

// A placeholder until the PWA lands: it proves the server serves the built app and the API.
function App() {
  const [health, setHealth] = useState<Health | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    fetch("/api/v1/health")
      .then((response) => response.json() as Promise<Health>)
      .then(setHealth)
      .catch(() => setFailed(true));
  }, []);

  return (
    <main>
      <h1>Waymark</h1>
      <p>A private log. The full app is on its way.</p>
      <p role="status">
        {failed ? "The server is not answering." : health ? `Server: ${health.status}` : "Checking the server…"}
      </p>
      <p>
        In danger now? Call <a href="tel:999">999</a>.
      </p>
    </main>
  );
}

render(<App />, document.getElementById("app")!);
