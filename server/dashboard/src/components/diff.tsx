import { type Change, jsonDiff, shortJson } from "../diff.ts";

/** The changes from `before` to `after`, one line per path. */
export function DiffList({ before, after, label }: { before: unknown; after: unknown; label?: string }) {
  const changes = jsonDiff(before, after);
  if (changes.length === 0) return <p class="muted">No changes.</p>;
  return (
    <ul class="diff" aria-label={label ?? "Changes"}>
      {changes.map((change, index) => (
        <li class={change.kind} key={index}>
          {line(change)}
        </li>
      ))}
    </ul>
  );
}

function line(change: Change): string {
  const path = change.path || "(whole definition)";
  switch (change.kind) {
    case "added":
      return `+ ${path}: ${shortJson(change.after)}`;
    case "removed":
      return `− ${path}: ${shortJson(change.before)}`;
    default:
      return `~ ${path}: ${shortJson(change.before)} → ${shortJson(change.after)}`;
  }
}
