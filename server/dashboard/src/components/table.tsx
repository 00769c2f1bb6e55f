import type { ComponentChildren } from "preact";

/** A table's box: scrolls sideways on narrow screens, and is focusable so keyboards can scroll it. */
export function TableWrap({ children }: { children: ComponentChildren }) {
  return (
    <div class="table-wrap" tabIndex={0}>
      {children}
    </div>
  );
}

/** A column heading; `hidden` keeps it for screen readers only. */
export type Column = string | { label: string; hidden?: boolean; num?: boolean };

/** A scrolling table named by its caption, with a header row of `columns`; `children` are the body rows. */
export function DataTable(props: { caption: string; hideCaption?: boolean; columns: Column[]; children: ComponentChildren }) {
  return (
    <TableWrap>
      <table>
        <caption class={props.hideCaption ? "visually-hidden" : undefined}>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((column) => {
              const c = typeof column === "string" ? { label: column } : column;
              return (
                <th scope="col" key={c.label} class={c.num ? "num" : undefined}>
                  {c.hidden ? <span class="visually-hidden">{c.label}</span> : c.label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </TableWrap>
  );
}
