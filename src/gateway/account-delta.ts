/**
 * The changes the account channels send (docs/PROTOCOL.md, "Account channels"): between two states of an object,
 * a JSON Merge Patch (RFC 7386); between two keyed lists, the items to upsert and the keys to remove. The states
 * hold no `null` (absent values are left out), so that a patch's `null` always means "removed".
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The merge patch that turns `before` into `after`; undefined when they are equal. */
export function mergePatch(before: JsonObject, after: JsonObject): JsonObject | undefined {
  const patch: JsonObject = {};
  let changed = false;
  for (const [key, value] of Object.entries(after)) {
    const old = before[key];
    if (sameJson(old, value)) continue;
    const nested = isObject(old) && isObject(value) ? mergePatch(old, value) : undefined;
    patch[key] = nested ?? value;
    changed = true;
  }
  for (const key of Object.keys(before)) {
    if (!(key in after)) {
      patch[key] = null;
      changed = true;
    }
  }
  return changed ? patch : undefined;
}

/** RFC 7386 applied: what a client does with a patch. */
export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

/** An item of a keyed list. */
export interface Keyed {
  readonly key: string;
}

export interface ListChange<T extends Keyed> {
  readonly upsert: T[];
  readonly remove: string[];
}

/** Items of `after` new or different from `before` (in `after`'s order), and keys gone; undefined when equal. */
export function listDelta<T extends Keyed>(
  before: ReadonlyMap<string, T>,
  after: ReadonlyMap<string, T>,
): ListChange<T> | undefined {
  const upsert: T[] = [];
  const remove: string[] = [];
  for (const [key, item] of after) {
    if (!sameJson(before.get(key) as JsonValue | undefined, item as unknown as JsonValue)) upsert.push(item);
  }
  for (const key of before.keys()) if (!after.has(key)) remove.push(key);
  return upsert.length + remove.length > 0 ? { upsert, remove } : undefined;
}
