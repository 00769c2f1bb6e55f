import { localText, parseDate, utcText } from "../dates.ts";

/** A date in the viewer's zone; UTC on hover (`title`) and in `datetime`. */
export function Time({ at }: { at: string | null | undefined }) {
  const date = parseDate(at);
  if (!date) return <span>{at ?? "—"}</span>;
  return (
    <time dateTime={date.toISOString()} title={utcText(date)}>
      {localText(date)}
    </time>
  );
}
