// The controlled vocabularies, in plain words (app/models/codes.py; docs/architecture.md,
// "The controlled vocabularies").

export const BEHAVIOURS: [string, string][] = [
  ["following", "Following me"],
  ["contacting", "Contacting me"],
  ["turning_up", "Turning up"],
  ["loitering", "Hanging around"],
  ["watching", "Watching me"],
  ["monitoring", "Monitoring me"],
  ["publishing", "Posting about me"],
  ["gifts", "Gifts or items"],
  ["third_parties", "Through other people"],
  ["property", "Damage to property"],
  ["threats", "Threats"],
  ["order_breach", "Breaking an order"],
  ["other", "Something else"],
];

export const CHANNELS: [string, string][] = [
  ["phone_call", "Phone call"],
  ["text_message", "Text message"],
  ["messaging_app", "Messaging app"],
  ["email", "Email"],
  ["social_media", "Social media"],
  ["in_person", "In person"],
  ["letter_or_item", "Letter or item"],
  ["via_someone_else", "Through someone else"],
  ["other", "Other"],
];

export const IMPACT_AREAS: [string, string][] = [
  ["fear_of_violence", "Fear of violence"],
  ["alarm_or_distress", "Alarm or distress"],
  ["sleep", "Sleep"],
  ["health", "Health"],
  ["work_or_study", "Work or study"],
  ["finances", "Money"],
  ["home_security", "Feeling safe at home"],
  ["moved_home", "Moving home"],
  ["changed_routine", "Changing my routine"],
  ["social_life", "Social life"],
  ["family_or_children", "Family or children"],
  ["other", "Something else"],
];

export const REPORT_METHODS: [string, string][] = [
  ["emergency_999", "999"],
  ["non_emergency_101", "101"],
  ["online", "Online"],
  ["in_person", "In person"],
  ["other", "Another way"],
];

export const KINDS: [string, string][] = [
  ["incident", "Incidents"],
  ["impact_note", "Impact notes"],
  ["police_report", "Police reports"],
  ["evidence", "Evidence"],
  ["advocate_note", "Advocate notes"],
];

const lookup = (pairs: [string, string][]) => new Map(pairs);
const behaviourWords = lookup(BEHAVIOURS);
const channelWords = lookup(CHANNELS);
const areaWords = lookup(IMPACT_AREAS);
const methodWords = lookup(REPORT_METHODS);

export const behaviourLabel = (code: string) => behaviourWords.get(code) ?? code;
export const channelLabel = (code: string) => channelWords.get(code) ?? code;
export const areaLabel = (code: string) => areaWords.get(code) ?? code;
export const methodLabel = (code: string) => methodWords.get(code) ?? code;

export const KIND_WORDS: Record<string, string> = {
  incident: "Incident",
  impact_note: "Impact note",
  police_report: "Police report",
  evidence: "Evidence",
  advocate_note: "Advocate's note",
};

/** Where each kind of record lives in the API. */
export const RESOURCE_OF: Record<string, string> = {
  incident: "incidents",
  impact_note: "impact-notes",
  police_report: "police-reports",
  evidence: "evidence",
};
