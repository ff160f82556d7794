// The API's shapes (app/models/*.py, and the OpenAPI document at /api/v1/openapi.json).
// Only what the app reads is typed.

export type Role = "victim" | "advocate" | "admin";

export interface User {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  organisation_id: string | null;
  created_at: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ServerFields {
  id: string;
  recorded_at: string;
  updated_at: string;
  revision: number;
  withdrawn: boolean;
  withdrawn_reason: string | null;
}

export interface IncidentFields {
  occurred_at: string;
  occurred_until?: string | null;
  time_is_approximate?: boolean;
  location?: string | null;
  behaviours: string[];
  channel?: string | null;
  description?: string;
  witnesses?: string | null;
  feelings?: string | null;
}

export interface Incident extends IncidentFields, ServerFields {
  crime_references: string[];
  evidence_ids: string[];
}

export interface ImpactNoteFields {
  noted_at: string;
  areas: string[];
  description: string;
}

export interface ImpactNote extends ImpactNoteFields, ServerFields {}

export interface PoliceReportFields {
  crime_reference?: string | null;
  reported_at: string;
  force?: string | null;
  officer?: string | null;
  method: string;
  notes?: string | null;
  incident_ids: string[];
}

export interface PoliceReport extends PoliceReportFields, ServerFields {}

export interface Evidence extends ServerFields {
  original_filename: string;
  media_type: string;
  size: number;
  sha256: string;
  client_sha256_matches: boolean | null;
  captured_at: string | null;
  uploaded_at: string;
  metadata?: Record<string, unknown>;
  file_metadata?: Record<string, unknown>;
  description: string;
  incident_ids: string[];
  has_thumbnail: boolean;
}

export interface AdvocateNote {
  id: string;
  body: string;
  created_at: string;
  author: { id: string; display_name: string | null };
}

export type Kind = "incident" | "impact_note" | "police_report" | "evidence" | "advocate_note";

export interface TimelineItem {
  kind: Kind;
  id: string;
  at: string;
  summary: string;
  data: Record<string, unknown>;
}

export interface Revision {
  revision: number;
  at: string;
  by: { id: string; display_name: string | null };
  [field: string]: unknown;
}

export interface AuthSession {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  device: string;
  current: boolean;
}

export interface Share {
  id: string;
  advocate: { id: string; display_name: string; organisation: string | null };
  since: string;
  can_export: boolean;
  last_viewed_at: string | null;
}

export interface Case {
  id: string;
  victim: { display_name: string };
  since: string;
  can_export: boolean;
  counts: Record<string, number>;
  last_activity: string | null;
}

export interface Invitation {
  code: string;
  expires_at: string;
}

export interface AuditEvent {
  seq: number;
  at: string;
  action: string;
  description: string;
}
