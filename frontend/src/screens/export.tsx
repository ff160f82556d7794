import { ExportForm } from "../components/export";
import { Screen } from "../components/ui";

export function Export() {
  return (
    <Screen
      title="Evidence pack"
      lead="One file to give to the police: a readable timeline (PDF), your original files, and a signature that shows nothing has been changed."
    >
      <ExportForm path="/exports/pack" />
    </Screen>
  );
}
