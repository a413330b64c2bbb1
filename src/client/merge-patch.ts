/**
 * JSON Merge Patch (RFC 7386), as the gateway's object account channels send their changes: a field present in
 * the patch replaces the target's, `null` removes it, and a nested object patches the nested object the same
 * way. The target is never modified; the result is a new value.
 */
export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

function isObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `target` with `patch` applied. A patch that is not an object replaces the target whole (RFC 7386, §2). */
export function applyMergePatch(target: unknown, patch: unknown): JsonValue {
  if (!isObject(patch)) return patch as JsonValue;
  const result: Record<string, JsonValue> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
