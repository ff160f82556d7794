// What an edit changed, as the PATCH body the API wants.

/** Only the fields that changed, with emptied optional text sent as null (or "" where the API
 * wants text). */
export function changes(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  emptyAsText: string[] = [],
): Record<string, unknown> {
  const plain = (field: string, value: unknown) =>
    value === undefined || (value === "" && !emptyAsText.includes(field)) ? null : value;
  const result: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(after)) {
    const now = plain(field, value);
    if (JSON.stringify(plain(field, before[field])) !== JSON.stringify(now)) result[field] = now;
  }
  return result;
}
