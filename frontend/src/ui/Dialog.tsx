// Modal dialog: role="dialog" + aria-modal, labelled by its title, focus kept inside (Tab and
// Shift+Tab cycle), Escape cancels, the body is a form so Enter submits, focus returns to
// whatever had it before. Own implementation because Paca's `ui.confirm` always answers false.
import { type FormEvent, type KeyboardEvent, type ReactNode, type RefObject, useEffect, useId, useRef } from "react";
import { Button } from "./Button";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export interface DialogProps {
  title: ReactNode;
  icon?: ReactNode;
  description?: ReactNode;
  onCancel: () => void;
  /** Enter (or the submit button) calls this. Absent → the dialog has no submit. */
  onSubmit?: () => void;
  children?: ReactNode;
  actions: ReactNode;
  wide?: boolean;
  /** Focused when the dialog opens (default: first focusable element). */
  initialFocus?: RefObject<HTMLElement | null>;
  /** While busy, Escape and the overlay do not close. */
  busy?: boolean;
}

export function Dialog({ title, icon, description, onCancel, onSubmit, children, actions, wide, initialFocus, busy }: DialogProps) {
  const titleId = useId();
  const descId = useId();
  const ref = useRef<HTMLFormElement>(null);
  const cancel = useRef(onCancel);
  cancel.current = onCancel;
  const busyRef = useRef(busy);
  busyRef.current = busy;

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const el = ref.current;
    const first = initialFocus?.current ?? el?.querySelector<HTMLElement>(FOCUSABLE) ?? el;
    first?.focus();
    return () => {
      if (previous && document.contains(previous)) previous.focus();
    };
  }, []);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      e.preventDefault();
      if (!busyRef.current) cancel.current();
      return;
    }
    if (e.key !== "Tab" || !ref.current) return;
    const items = Array.from(ref.current.querySelectorAll<HTMLElement>(FOCUSABLE));
    if (items.length === 0) {
      e.preventDefault();
      return;
    }
    const first = items[0]!;
    const last = items[items.length - 1]!;
    if (e.shiftKey && (document.activeElement === first || document.activeElement === ref.current)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit?.();
  };

  return (
    <div
      className="pgh-overlay"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget && !busyRef.current) cancel.current();
      }}
    >
      <form
        ref={ref}
        className={`pgh-dialog${wide ? " pgh-dialog-wide" : ""}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={description ? descId : undefined}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        onSubmit={submit}
        noValidate
      >
        <h2 id={titleId} className="pgh-dialog-title">
          {icon}
          {title}
        </h2>
        {description ? (
          <div id={descId} className="pgh-muted" style={{ marginTop: 6 }}>
            {description}
          </div>
        ) : null}
        {children ? <div style={{ marginTop: 16 }}>{children}</div> : null}
        <div className="pgh-dialog-actions">{actions}</div>
      </form>
    </div>
  );
}

export interface ConfirmDialogProps {
  title: string;
  icon?: ReactNode;
  description: ReactNode;
  confirmLabel: string;
  pendingLabel: string;
  pending: boolean;
  error?: string | null;
  destructive?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

/** Yes/no question; Enter confirms, Escape cancels. Cancel has the initial focus. */
export function ConfirmDialog(p: ConfirmDialogProps) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  return (
    <Dialog
      title={p.title}
      icon={p.icon}
      description={p.description}
      onCancel={p.onCancel}
      onSubmit={p.onConfirm}
      busy={p.pending}
      initialFocus={cancelRef}
      actions={
        <>
          <Button ref={cancelRef} variant="outline" onClick={p.onCancel} disabled={p.pending}>
            Cancel
          </Button>
          <Button type="submit" variant={p.destructive ? "destructive" : "default"} loading={p.pending}>
            {p.pending ? p.pendingLabel : p.confirmLabel}
          </Button>
        </>
      }
    >
      {p.error ? (
        <div className="pgh-alert pgh-alert-error" role="alert">
          {p.error}
        </div>
      ) : null}
    </Dialog>
  );
}
