import { type ReactNode, useId, useState } from "react";
import { IconChevron } from "./icons";

/** A collapsible section (expanded by default) with an uppercase label and a count pill. */
export function Section({ icon, label, count, children }: { icon: ReactNode; label: string; count: number; children: ReactNode }) {
  const [open, setOpen] = useState(true);
  const id = useId();
  return (
    <section className="pgh-stack-sm" aria-label={label}>
      <button type="button" className="pgh-section-head" aria-expanded={open} aria-controls={id} onClick={() => setOpen((o) => !o)}>
        {icon}
        <span className="pgh-section-label">{label}</span>
        {count > 0 ? (
          <span className="pgh-count" aria-label={`${count} linked`}>
            {count}
          </span>
        ) : null}
        <span className="pgh-divider" />
        <IconChevron className="pgh-chevron" />
      </button>
      <div id={id} hidden={!open} className="pgh-stack-sm">
        {children}
      </div>
    </section>
  );
}
