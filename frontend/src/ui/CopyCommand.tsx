import { useEffect, useRef, useState } from "react";
import { Button } from "./Button";
import { IconCheck, IconCopy } from "./icons";

type CopyState = "idle" | "copied" | "failed";

async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // permission denied or not a secure context: fall through to the selection copy
  }
  try {
    const ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    return ok;
  } catch {
    return false;
  }
}

/** A shell command with a copy button ("Copied" for two seconds). */
export function CopyCommand({ command, label }: { command: string; label: string }) {
  const [state, setState] = useState<CopyState>("idle");
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const copy = () => {
    void copyText(command).then((ok) => {
      setState(ok ? "copied" : "failed");
      clearTimeout(timer.current);
      timer.current = setTimeout(() => setState("idle"), 2000);
    });
  };
  return (
    <div className="pgh-cmd">
      <code aria-label={label}>{command}</code>
      <Button variant="ghost" size="icon" onClick={copy} aria-label={state === "copied" ? "Copied" : `Copy: ${label}`} title="Copy">
        {state === "copied" ? <IconCheck /> : <IconCopy />}
      </Button>
      <span className="pgh-sr-only" role="status">
        {state === "copied" ? "Copied to the clipboard" : state === "failed" ? "Copy failed: select the command and copy it" : ""}
      </span>
    </div>
  );
}
