// The plugin's only stylesheet, injected once into <head>. Every class is prefixed `pgh-`; colours
// read Paca's design tokens (`--primary`, `--muted`, …) and fall back to Paca's default palette, so
// the UI looks native with or without the host's CSS. Dark mode follows a `.dark` ancestor.
export const STYLE_ELEMENT_ID = "com-paca-github-styles";

const LIGHT = `
  --pgh-bg: var(--background, #ffffff);
  --pgh-fg: var(--foreground, #0a0a0a);
  --pgh-card: var(--card, #ffffff);
  --pgh-card-fg: var(--card-foreground, var(--pgh-fg));
  --pgh-muted: var(--muted, #f4f4f5);
  --pgh-muted-fg: var(--muted-foreground, #71717a);
  --pgh-accent: var(--accent, #f4f4f5);
  --pgh-border: var(--border, #e4e4e7);
  --pgh-input: var(--input, #d4d4d8);
  --pgh-ring: var(--ring, #a1a1aa);
  --pgh-primary: var(--primary, #18181b);
  --pgh-primary-fg: var(--primary-foreground, #fafafa);
  --pgh-destructive: var(--destructive, #dc2626);
  --pgh-success: #047857;
  --pgh-success-bg: rgba(16, 185, 129, 0.12);
  --pgh-merged: #7c3aed;
  --pgh-merged-bg: rgba(139, 92, 246, 0.12);
  --pgh-warning: #b45309;
  --pgh-warning-bg: rgba(245, 158, 11, 0.14);
  --pgh-destructive-bg: rgba(220, 38, 38, 0.10);
  --pgh-overlay: rgba(0, 0, 0, 0.5);
  --pgh-shadow: 0 1px 2px rgba(0, 0, 0, 0.05);
`;

const DARK = `
  --pgh-bg: var(--background, #09090b);
  --pgh-fg: var(--foreground, #fafafa);
  --pgh-card: var(--card, #18181b);
  --pgh-muted: var(--muted, #27272a);
  --pgh-muted-fg: var(--muted-foreground, #a1a1aa);
  --pgh-accent: var(--accent, #27272a);
  --pgh-border: var(--border, #2e2e33);
  --pgh-input: var(--input, #3f3f46);
  --pgh-ring: var(--ring, #71717a);
  --pgh-primary: var(--primary, #fafafa);
  --pgh-primary-fg: var(--primary-foreground, #18181b);
  --pgh-destructive: var(--destructive, #f87171);
  --pgh-success: #34d399;
  --pgh-success-bg: rgba(52, 211, 153, 0.14);
  --pgh-merged: #a78bfa;
  --pgh-merged-bg: rgba(167, 139, 250, 0.16);
  --pgh-warning: #fbbf24;
  --pgh-warning-bg: rgba(251, 191, 36, 0.14);
  --pgh-destructive-bg: rgba(248, 113, 113, 0.14);
  --pgh-overlay: rgba(0, 0, 0, 0.7);
  --pgh-shadow: none;
`;

export const CSS = `
.pgh { ${LIGHT}
  color: var(--pgh-fg); font-family: var(--font-sans, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif);
  font-size: 14px; line-height: 1.5; -webkit-font-smoothing: antialiased; }
.dark .pgh, .pgh.pgh-dark { ${DARK} }
.pgh *, .pgh *::before, .pgh *::after { box-sizing: border-box; }
.pgh :where(h2, h3, h4, p, ul, ol, pre, figure) { margin: 0; }
.pgh :where(ul, ol) { padding: 0; list-style: none; }
.pgh :where(a) { color: inherit; }
.pgh :where(button, input, select) { font: inherit; color: inherit; }
.pgh code, .pgh .pgh-mono { font-family: var(--font-mono, ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace); font-size: 0.92em; }
.pgh .pgh-stack { display: flex; flex-direction: column; gap: 16px; }
.pgh .pgh-stack-sm { display: flex; flex-direction: column; gap: 8px; }
.pgh .pgh-row { display: flex; align-items: center; gap: 8px; min-width: 0; }
.pgh .pgh-row-between { display: flex; align-items: center; justify-content: space-between; gap: 12px; min-width: 0; }
.pgh .pgh-grow { flex: 1 1 auto; min-width: 0; }
.pgh .pgh-wrap { flex-wrap: wrap; }
.pgh .pgh-muted { color: var(--pgh-muted-fg); }
.pgh .pgh-small { font-size: 12.5px; }
.pgh .pgh-truncate { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.pgh .pgh-sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0,0,0,0); white-space: nowrap; border: 0; }

.pgh .pgh-card { background: var(--pgh-card); color: var(--pgh-card-fg); border: 1px solid var(--pgh-border);
  border-radius: calc(var(--pgh-radius, var(--radius, 10px)) + 2px); padding: 20px; box-shadow: var(--pgh-shadow); }
.pgh .pgh-card-title { font-size: 15px; font-weight: 600; letter-spacing: -0.01em; }
.pgh .pgh-title { font-size: 18px; font-weight: 600; letter-spacing: -0.015em; }
.pgh .pgh-header { display: flex; gap: 14px; align-items: flex-start; }
.pgh .pgh-logo { flex: none; display: grid; place-items: center; width: 40px; height: 40px; border-radius: 10px;
  background: var(--pgh-primary); color: var(--pgh-primary-fg); }

.pgh .pgh-icon { width: 16px; height: 16px; flex: none; display: inline-block; vertical-align: -3px; }
.pgh .pgh-icon-lg { width: 20px; height: 20px; }

.pgh .pgh-btn { display: inline-flex; align-items: center; justify-content: center; gap: 6px; white-space: nowrap;
  height: 36px; padding: 0 14px; border-radius: var(--radius, 8px); border: 1px solid transparent; cursor: pointer;
  font-size: 13.5px; font-weight: 500; background: var(--pgh-primary); color: var(--pgh-primary-fg);
  transition: background-color .15s, opacity .15s, border-color .15s; text-decoration: none; }
.pgh .pgh-btn:hover:not(:disabled) { opacity: 0.9; }
.pgh .pgh-btn:disabled { opacity: 0.5; cursor: not-allowed; }
.pgh .pgh-btn-sm { height: 30px; padding: 0 10px; font-size: 12.5px; }
.pgh .pgh-btn-icon { width: 30px; height: 30px; padding: 0; }
.pgh .pgh-btn-outline { background: var(--pgh-bg); color: var(--pgh-fg); border-color: var(--pgh-border); }
.pgh .pgh-btn-outline:hover:not(:disabled) { background: var(--pgh-accent); opacity: 1; }
.pgh .pgh-btn-ghost { background: transparent; color: var(--pgh-fg); }
.pgh .pgh-btn-ghost:hover:not(:disabled) { background: var(--pgh-accent); opacity: 1; }
.pgh .pgh-btn-destructive { background: var(--pgh-destructive); color: #fff; }
.pgh .pgh-btn-destructive-outline { background: var(--pgh-bg); color: var(--pgh-destructive); border-color: color-mix(in srgb, var(--pgh-destructive) 40%, transparent); }
.pgh .pgh-btn-destructive-outline:hover:not(:disabled) { background: var(--pgh-destructive-bg); opacity: 1; }
.pgh .pgh-btn-link { background: transparent; color: var(--pgh-fg); height: auto; padding: 2px 0; border: 0; font-weight: 500; }
.pgh .pgh-btn-link:hover:not(:disabled) { text-decoration: underline; opacity: 1; }
.pgh :where(button, a, input, select, [tabindex]):focus-visible { outline: 2px solid var(--pgh-ring); outline-offset: 2px; }

.pgh .pgh-field { display: flex; flex-direction: column; gap: 6px; }
.pgh .pgh-label { font-size: 13px; font-weight: 500; }
.pgh .pgh-input, .pgh .pgh-select { height: 36px; width: 100%; padding: 0 10px; border-radius: var(--radius, 8px);
  border: 1px solid var(--pgh-input); background: var(--pgh-bg); color: var(--pgh-fg); font-size: 13.5px; }
.pgh .pgh-textarea { width: 100%; min-height: 72px; padding: 8px 10px; border-radius: var(--radius, 8px); resize: vertical;
  border: 1px solid var(--pgh-input); background: var(--pgh-bg); color: var(--pgh-fg); font: inherit; font-size: 13.5px; }
.pgh .pgh-textarea:focus-visible { outline: 2px solid var(--pgh-ring); outline-offset: 0; border-color: var(--pgh-ring); }
.pgh .pgh-input::placeholder, .pgh .pgh-textarea::placeholder { color: var(--pgh-muted-fg); }
.pgh .pgh-input:focus-visible, .pgh .pgh-select:focus-visible { outline: 2px solid var(--pgh-ring); outline-offset: 0; border-color: var(--pgh-ring); }
.pgh .pgh-input[aria-invalid="true"] { border-color: var(--pgh-destructive); }
.pgh .pgh-input:disabled, .pgh .pgh-select:disabled { opacity: 0.6; cursor: not-allowed; }
.pgh .pgh-input-group { position: relative; display: flex; }
.pgh .pgh-input-group .pgh-input { padding-right: 64px; }
.pgh .pgh-input-group .pgh-input-addon { position: absolute; right: 4px; top: 3px; height: 30px; }

.pgh .pgh-badge { display: inline-flex; align-items: center; gap: 4px; height: 22px; padding: 0 8px; border-radius: 999px;
  font-size: 12px; font-weight: 500; border: 1px solid var(--pgh-border); background: var(--pgh-muted); color: var(--pgh-muted-fg); white-space: nowrap; }
.pgh .pgh-badge .pgh-icon { width: 13px; height: 13px; vertical-align: 0; }
.pgh .pgh-badge-success { background: var(--pgh-success-bg); color: var(--pgh-success); border-color: transparent; }
.pgh .pgh-badge-merged { background: var(--pgh-merged-bg); color: var(--pgh-merged); border-color: transparent; }
.pgh .pgh-badge-closed { background: var(--pgh-destructive-bg); color: var(--pgh-destructive); border-color: transparent; }
.pgh .pgh-badge-warning { background: var(--pgh-warning-bg); color: var(--pgh-warning); border-color: transparent; }
.pgh .pgh-chip { padding: 1px 6px; border-radius: 5px; background: var(--pgh-muted); border: 1px solid var(--pgh-border); }

.pgh .pgh-alert { display: flex; gap: 10px; align-items: flex-start; padding: 10px 12px; border-radius: var(--radius, 8px);
  border: 1px solid var(--pgh-border); background: var(--pgh-muted); font-size: 13px; }
.pgh .pgh-alert-error { border-color: color-mix(in srgb, var(--pgh-destructive) 35%, transparent); background: var(--pgh-destructive-bg); color: var(--pgh-destructive); }
.pgh .pgh-alert-success { border-color: transparent; background: var(--pgh-success-bg); color: var(--pgh-success); }
.pgh .pgh-alert-dashed { border-style: dashed; background: transparent; color: var(--pgh-muted-fg); }
.pgh .pgh-alert .pgh-icon { margin-top: 2px; }

.pgh .pgh-steps { display: flex; align-items: center; gap: 10px; margin-top: 18px; flex-wrap: wrap; }
.pgh .pgh-step { display: flex; align-items: center; gap: 8px; font-size: 13px; font-weight: 500; }
.pgh .pgh-step-dot { display: grid; place-items: center; width: 22px; height: 22px; border-radius: 999px; font-size: 12px;
  border: 1px solid var(--pgh-border); background: var(--pgh-muted); color: var(--pgh-muted-fg); }
.pgh .pgh-step-done .pgh-step-dot { background: var(--pgh-success); border-color: var(--pgh-success); color: #fff; }
.pgh .pgh-step-pending { color: var(--pgh-muted-fg); }
.pgh .pgh-step-line { width: 36px; height: 1px; background: var(--pgh-border); }

.pgh .pgh-list { border: 1px solid var(--pgh-border); border-radius: var(--radius, 8px); overflow: hidden; }
.pgh .pgh-list > li { padding: 12px 14px; }
.pgh .pgh-list > li + li { border-top: 1px solid var(--pgh-border); }
.pgh .pgh-list-scroll { max-height: 320px; overflow-y: auto; }
.pgh .pgh-option { display: flex; width: 100%; gap: 10px; align-items: center; text-align: left; padding: 10px 14px; border: 0;
  background: transparent; cursor: pointer; }
.pgh .pgh-option:hover:not(:disabled) { background: var(--pgh-accent); }
.pgh .pgh-option:disabled { cursor: default; }
.pgh .pgh-list > li.pgh-option-item { padding: 0; }
.pgh .pgh-repo-link { font-weight: 500; text-decoration: none; }
.pgh .pgh-repo-link:hover { text-decoration: underline; }

.pgh .pgh-skeleton { display: block; border-radius: 6px; background: var(--pgh-muted); animation: pgh-pulse 1.6s ease-in-out infinite; }
@keyframes pgh-pulse { 50% { opacity: 0.5; } }
.pgh .pgh-spinner { animation: pgh-spin 0.8s linear infinite; }
@keyframes pgh-spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .pgh .pgh-skeleton, .pgh .pgh-spinner { animation-duration: 3s; } }

.pgh .pgh-empty { display: flex; flex-direction: column; align-items: center; gap: 8px; padding: 24px 12px; text-align: center;
  color: var(--pgh-muted-fg); border: 1px dashed var(--pgh-border); border-radius: var(--radius, 8px); }

.pgh .pgh-overlay { position: fixed; inset: 0; z-index: 1000; display: grid; place-items: center; padding: 16px; background: var(--pgh-overlay); }
.pgh .pgh-dialog { width: 100%; max-width: 480px; max-height: calc(100vh - 32px); overflow-y: auto; background: var(--pgh-card);
  color: var(--pgh-card-fg); border: 1px solid var(--pgh-border); border-radius: 12px; padding: 22px; box-shadow: 0 20px 50px rgba(0,0,0,.25); }
.pgh .pgh-dialog-wide { max-width: 560px; }
.pgh .pgh-dialog-title { font-size: 16px; font-weight: 600; display: flex; align-items: center; gap: 8px; }
.pgh .pgh-dialog-actions { display: flex; justify-content: flex-end; gap: 8px; margin-top: 20px; }

.pgh .pgh-section-head { display: flex; width: 100%; align-items: center; gap: 8px; padding: 4px 0; border: 0; background: transparent;
  cursor: pointer; color: var(--pgh-muted-fg); }
.pgh .pgh-section-label { font-size: 11.5px; font-weight: 600; letter-spacing: 0.08em; text-transform: uppercase; }
.pgh .pgh-count { min-width: 20px; height: 18px; padding: 0 6px; border-radius: 999px; background: var(--pgh-muted);
  border: 1px solid var(--pgh-border); font-size: 11px; font-weight: 600; display: inline-grid; place-items: center; color: var(--pgh-fg); }
.pgh .pgh-divider { flex: 1 1 auto; height: 1px; background: linear-gradient(to right, var(--pgh-border), transparent); }
.pgh .pgh-chevron { transition: transform .15s; }
.pgh .pgh-section-head[aria-expanded="false"] .pgh-chevron { transform: rotate(-90deg); }

.pgh .pgh-item { border: 1px solid var(--pgh-border); border-radius: var(--radius, 8px); padding: 10px 12px; background: var(--pgh-card); }
.pgh .pgh-cmd { display: flex; align-items: center; gap: 6px; margin-top: 8px; padding: 4px 4px 4px 10px; border-radius: 6px;
  background: var(--pgh-muted); border: 1px solid var(--pgh-border); }
.pgh .pgh-cmd code { flex: 1 1 auto; min-width: 0; overflow-x: auto; white-space: nowrap; font-size: 12px; }
.pgh .pgh-pills { display: flex; flex-wrap: wrap; gap: 6px; }
.pgh .pgh-pill { height: 26px; padding: 0 10px; border-radius: 999px; border: 1px solid var(--pgh-border); background: var(--pgh-bg);
  font-size: 12.5px; cursor: pointer; }
.pgh .pgh-pill[aria-checked="true"] { background: var(--pgh-primary); color: var(--pgh-primary-fg); border-color: var(--pgh-primary); }
.pgh .pgh-form { display: flex; flex-direction: column; gap: 12px; padding: 14px; border: 1px solid var(--pgh-border);
  border-radius: var(--radius, 8px); background: var(--pgh-muted); background: color-mix(in srgb, var(--pgh-muted) 45%, var(--pgh-card)); }
.pgh .pgh-grid-2 { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
@media (max-width: 520px) { .pgh .pgh-grid-2 { grid-template-columns: 1fr; } }
.pgh .pgh-pr-title { font-weight: 500; text-decoration: none; }
.pgh .pgh-pr-title:hover { text-decoration: underline; }
.pgh .pgh-pr-badges { display: flex; gap: 6px; align-items: center; flex: none; }
.pgh .pgh-hint { font-size: 12.5px; color: var(--pgh-muted-fg); }
.pgh .pgh-error-text { font-size: 12.5px; color: var(--pgh-destructive); }
`;

/** Adds the stylesheet once per document (every mounted root shares it). */
export function injectStyles(doc: Document = document): void {
  if (doc.getElementById(STYLE_ELEMENT_ID)) return;
  const el = doc.createElement("style");
  el.id = STYLE_ELEMENT_ID;
  el.textContent = CSS;
  doc.head.appendChild(el);
}
