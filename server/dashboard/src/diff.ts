// What changed between two JSON values, path by path (`rules[1].serve.variant`). Arrays
// are compared element by element, except arrays of objects with an `id` (rules), which
// are matched by id so that inserting a rule does not show every later rule as changed.

export type Change =
  | { kind: "added"; path: string; after: unknown }
  | { kind: "removed"; path: string; before: unknown }
  | { kind: "changed"; path: string; before: unknown; after: unknown };

type Obj = Record<string, unknown>;
const isObject = (value: unknown): value is Obj => typeof value === "object" && value !== null && !Array.isArray(value);

function keyPath(base: string, key: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? (base ? `${base}.${key}` : key) : `${base}[${JSON.stringify(key)}]`;
}

function byId(list: unknown[]): Map<string, unknown> | null {
  const map = new Map<string, unknown>();
  for (const item of list) {
    if (!isObject(item) || typeof item["id"] !== "string" || map.has(item["id"])) return null;
    map.set(item["id"], item);
  }
  return map;
}

export function jsonDiff(before: unknown, after: unknown, path = ""): Change[] {
  if (before === undefined && after === undefined) return [];
  if (before === undefined) return [{ kind: "added", path, after }];
  if (after === undefined) return [{ kind: "removed", path, before }];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => jsonDiff(before[key], after[key], keyPath(path, key)));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const left = byId(before);
    const right = byId(after);
    if (left && right && (left.size > 0 || right.size > 0)) {
      const ids = [...new Set([...left.keys(), ...right.keys()])];
      const changes = ids.flatMap((id) => jsonDiff(left.get(id), right.get(id), `${path}[id=${id}]`));
      const order = (list: unknown[]) => list.map((item) => (item as Obj)["id"]).join("\u0000");
      const reordered = order(before.filter((i) => right.has((i as Obj)["id"] as string))) !== order(after.filter((i) => left.has((i as Obj)["id"] as string)));
      if (reordered) changes.push({ kind: "changed", path: `${path} (order)`, before: before.map((i) => (i as Obj)["id"]), after: after.map((i) => (i as Obj)["id"]) });
      return changes;
    }
    const length = Math.max(before.length, after.length);
    const changes: Change[] = [];
    for (let index = 0; index < length; index++) changes.push(...jsonDiff(before[index], after[index], `${path}[${index}]`));
    return changes;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ kind: "changed", path, before, after }];
}

/** A value for a diff line: JSON, shortened. */
export function shortJson(value: unknown, max = 120): string {
  const text = JSON.stringify(value);
  if (text === undefined) return "undefined";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
