import type { ButtonHTMLAttributes, ReactNode, Ref } from "react";
import { IconSpinner } from "./icons";

export type ButtonVariant = "default" | "outline" | "ghost" | "destructive" | "destructive-outline" | "link";

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: ButtonVariant;
  size?: "md" | "sm" | "icon";
  /** Shows a spinner and disables the button. */
  loading?: boolean;
  children?: ReactNode;
  ref?: Ref<HTMLButtonElement>;
}

export function Button({ variant = "default", size = "md", loading = false, className, disabled, children, type, ...rest }: ButtonProps) {
  const cls = [
    "pgh-btn",
    variant !== "default" ? `pgh-btn-${variant}` : "",
    size === "sm" ? "pgh-btn-sm" : size === "icon" ? "pgh-btn-sm pgh-btn-icon" : "",
    className ?? "",
  ]
    .filter(Boolean)
    .join(" ");
  return (
    <button type={type ?? "button"} className={cls} disabled={disabled || loading} aria-busy={loading || undefined} {...rest}>
      {loading ? <IconSpinner /> : null}
      {children}
    </button>
  );
}
