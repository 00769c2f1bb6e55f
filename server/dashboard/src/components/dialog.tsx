import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import type { ApiError } from "../api.ts";
import { ErrorNote } from "./error.tsx";

/**
 * A modal dialog named by its title. The native <dialog> opened with showModal() makes
 * the rest of the page inert (focus stays inside) and closes on Escape; focus returns to
 * what had it before.
 */
export function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const previous = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    const first = dialog.querySelector<HTMLElement>("input, select, textarea, button:not(.dialog-close)");
    first?.focus();
    return () => {
      if (dialog.open) dialog.close();
      previous?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      aria-labelledby={id}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <div class="dialog-head">
        <h2 id={id}>{title}</h2>
        <button type="button" class="dialog-close" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}

/**
 * A dialog that asks why: `children` explain what will happen, then a required "Reason"
 * textbox, `extra` fields, the error if the action failed, and the submit button.
 */
export function ReasonDialog(props: {
  title: string;
  submitLabel: string;
  danger?: boolean;
  busy: boolean;
  error: ApiError | null;
  onSubmit: (reason: string) => void;
  onClose: () => void;
  children?: ComponentChildren;
  extra?: ComponentChildren;
}) {
  const [reason, setReason] = useState("");
  const id = useId();
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          props.onSubmit(reason.trim());
        }}
      >
        {props.children}
        <label for={id}>Reason</label>
        <input id={id} type="text" required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        {props.extra}
        <ErrorNote error={props.error} />
        <div class="actions">
          <button type="submit" class={props.danger ? "danger" : undefined} disabled={props.busy || reason.trim() === ""}>
            {props.submitLabel}
          </button>
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
