/** A JSON-like value: what a merge field may hold. */
export type FieldValue =
  | string
  | number
  | boolean
  | null
  | readonly FieldValue[]
  | { readonly [key: string]: FieldValue };

/** An item's mergeable content: one entry per field, no identity (uid) inside. */
export type Fields = { readonly [field: string]: FieldValue };

/** Deterministic JSON: object keys sorted, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sameValue(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}
