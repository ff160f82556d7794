// Talking to /api/v1: JSON in and out, problem details turned into errors people can read.
// Every request carries the session's proof (lib/vault.ts) beside the cookie.

import { proof } from "./vault";

export const API = "/api/v1";
export const PROOF_HEADER = "Session-Proof";

/** Headers every API request sends: the proof, when signed in. */
export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const secret = proof();
  return secret ? { ...extra, [PROOF_HEADER]: secret } : extra;
}
const READ_RETRY_MS = 700;

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { loc?: (string | number)[]; msg?: string }[];
}

/** The server answered with an error. `fields` maps a form field to what is wrong with it. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly fields: Record<string, string>;

  constructor(status: number, problem: Problem) {
    super(problem.detail || problem.title || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem;
    this.fields = fieldErrors(problem);
  }
}

/** No answer at all: offline, or the server could not be reached. */
export class OfflineError extends Error {
  constructor() {
    super("No connection. Try again when you are back online.");
  }
}

export function fieldErrors(problem: Problem): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const error of problem.errors ?? []) {
    const loc = (error.loc ?? []).filter((part) => part !== "body" && part !== "query");
    const name = loc.length ? String(loc[0]) : "";
    if (name && !fields[name]) fields[name] = plainMessage(error.msg ?? "");
  }
  return fields;
}

/** Pydantic's messages, made a little plainer ("Value error, must not…" → "Must not…"). */
export function plainMessage(message: string): string {
  const text = message.replace(/^(Value|Assertion) error,\s*/i, "").trim();
  return text ? text[0].toUpperCase() + text.slice(1) : "This is not valid.";
}

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

/** Called whenever the server says the session is gone (401). */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

export interface Answer<T> {
  status: number;
  body: T;
  response: Response;
}

export async function send<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  options: { signal?: AbortSignal; quietAuth?: boolean } = {},
): Promise<Answer<T>> {
  const attempt = () =>
    fetch(API + path, {
      method,
      credentials: "same-origin",
      cache: "no-store",
      headers: authHeaders(body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: options.signal,
    });
  let response: Response;
  try {
    try {
      response = await attempt();
    } catch (error) {
      // A weak signal drops the odd request: a read is worth one more try before giving up.
      if (method !== "GET" || (error instanceof DOMException && error.name === "AbortError") || !navigator.onLine) throw error;
      await new Promise((wait) => setTimeout(wait, READ_RETRY_MS));
      response = await attempt();
    }
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new OfflineError();
  }
  if (!response.ok) {
    let problem: Problem = {};
    try {
      problem = (await response.json()) as Problem;
    } catch {
      problem = { title: response.statusText };
    }
    if (response.status === 401 && !options.quietAuth) signedOutListeners.forEach((listener) => listener());
    throw new ApiError(response.status, problem);
  }
  const text = response.status === 204 ? "" : await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, response };
}

export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await send<T>("GET", path, undefined, { signal })).body;
}

export async function post<T>(path: string, body?: unknown): Promise<T> {
  return (await send<T>("POST", path, body ?? {})).body;
}

export async function patch<T>(path: string, body: unknown): Promise<T> {
  return (await send<T>("PATCH", path, body)).body;
}

export async function del<T>(path: string, body?: unknown): Promise<T> {
  return (await send<T>("DELETE", path, body)).body;
}

/** A query string from the values that are set (arrays comma-separated, as the API wants). */
export function query(params: Record<string, string | string[] | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "" || value === false) continue;
    if (Array.isArray(value)) {
      if (value.length) search.set(name, value.join(","));
    } else search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError || error instanceof OfflineError) return error.message;
  return "Something went wrong. Nothing was changed; please try again.";
}
