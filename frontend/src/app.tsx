import { Fragment } from "preact";
import { Shell } from "./components/shell";
import { Go, Loading, Screen } from "./components/ui";
import { useRoute, type Route } from "./lib/router";
import { appStore } from "./lib/session";
import { useStore } from "./lib/store";
import type { User } from "./lib/types";
import { Account } from "./screens/account";
import { CaseView, Caseload } from "./screens/advocate";
import { SignIn, SignUp } from "./screens/auth";
import { AddEvidence } from "./screens/evidence";
import { Export } from "./screens/export";
import { Home } from "./screens/home";
import { EditImpactNote, NewImpactNote } from "./screens/impact";
import { EditIncident, QuickLog, Saved } from "./screens/incident";
import { ItemDetail } from "./screens/item";
import { EditPoliceReport, NewPoliceReport } from "./screens/police";
import { Sharing } from "./screens/sharing";
import { Timeline } from "./screens/timeline";

function victimScreen(route: Route) {
  const p = route.params;
  switch (route.name) {
    case "log":
      return <QuickLog />;
    case "saved":
      return <Saved kind={p.kind} id={p.id} changed={p.changed} />;
    case "edit-incident":
      return <EditIncident id={p.id} />;
    case "impact":
      return <NewImpactNote />;
    case "edit-impact":
      return <EditImpactNote id={p.id} />;
    case "police":
      return <NewPoliceReport />;
    case "edit-police":
      return <EditPoliceReport id={p.id} />;
    case "timeline":
      return <Timeline />;
    case "item":
      return <ItemDetail kind={p.kind} id={p.id} />;
    case "evidence":
      return <AddEvidence incident={p.incident} />;
    case "sharing":
      return <Sharing />;
    case "export":
      return <Export />;
    case "account":
      return <Account />;
    default:
      return <Home />;
  }
}

function advocateScreen(route: Route) {
  const p = route.params;
  switch (route.name) {
    case "case":
      return <CaseView id={p.id} />;
    case "case-item":
      return <ItemDetail caseId={p.caseId} kind={p.kind} id={p.id} />;
    case "account":
      return <Account />;
    default:
      return <Caseload />;
  }
}

function screenFor(route: Route, user: User | null) {
  if (!user) return route.name === "signup" ? <SignUp /> : <SignIn />;
  if (user.role === "victim") return victimScreen(route);
  if (user.role === "advocate") return advocateScreen(route);
  return (
    <Screen title="Nothing to see here">
      <p>This app is for people keeping a log and for their advocates. Organisation admins use the command line and the API.</p>
      <Go to="account">Account</Go>
    </Screen>
  );
}

export function App() {
  const { ready, user } = useStore(appStore);
  const route = useRoute();
  return <Shell>{ready ? <Fragment key={route.visit ?? 0}>{screenFor(route, user)}</Fragment> : <Loading />}</Shell>;
}

