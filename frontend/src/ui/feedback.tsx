// Status pieces: spinner, skeleton, badge, alert, empty state.
import type { ReactNode } from "react";
import { IconAlert, IconSpinner } from "./icons";

export function Spinner({ label }: { label: string }) {
  return (
    <span className="pgh-row pgh-muted pgh-small" role="status">
      <IconSpinner />
      {label}
    </span>
  );
}

export function Skeleton({ width = "100%", height = 14 }: { width?: number | string; height?: number }) {
  return <span className="pgh-skeleton" style={{ width, height }} aria-hidden="true" />;
}

/** A block of skeleton rows with an accessible "Loading…" label. */
export function LoadingRows({ rows, label }: { rows: number; label: string }) {
  return (
    <div className="pgh-stack-sm" role="status" aria-label={label}>
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} height={36} width={i % 2 ? "82%" : "100%"} />
      ))}
    </div>
  );
}

export type BadgeTone = "neutral" | "success" | "merged" | "closed" | "warning";

export function Badge({ tone = "neutral", children, title }: { tone?: BadgeTone; children: ReactNode; title?: string }) {
  return (
    <span className={`pgh-badge${tone !== "neutral" ? ` pgh-badge-${tone}` : ""}`} title={title}>
      {children}
    </span>
  );
}

export function ErrorAlert({ children, action }: { children: ReactNode; action?: ReactNode }) {
  return (
    <div className="pgh-alert pgh-alert-error" role="alert">
      <IconAlert />
      <div className="pgh-grow">{children}</div>
      {action}
    </div>
  );
}

export function EmptyState({ icon, children, action }: { icon: ReactNode; children: ReactNode; action?: ReactNode }) {
  return (
    <div className="pgh-empty">
      {icon}
      <div>{children}</div>
      {action}
    </div>
  );
}
