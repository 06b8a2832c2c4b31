// The program objects the Programs page shows, as the API answers them (Program, ProgramVersion,
// ProgramTemplate in /v1/openapi.json).

export type ProgramDocument = Record<string, unknown> & {
  key: string;
  name: string;
  description?: string;
  landing_url?: string;
};

export interface ProgramVersion {
  version: number;
  effective_at: string;
  actor: string | null;
  created_at: string;
  document: ProgramDocument;
}

export interface Program {
  id: string;
  key: string;
  name: string;
  version: number | null;
  latest_version: number;
  effective_at: string;
  document: ProgramDocument;
  pending_version: ProgramVersion | null;
  created_at: string;
  updated_at: string;
}

export interface Template {
  name: string;
  summary: string;
  reference: string;
  document: ProgramDocument;
  assets: { key: string; kind: string; currency?: string | null; unit?: string | null; purpose?: string }[];
}
