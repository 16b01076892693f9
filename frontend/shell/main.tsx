// The dev shell page: a minimal stand-in for Paca's project settings and task detail pages that
// mounts the plugin's remote exactly like Paca does. State lives in the URL:
//   ?project=<id>&view=settings|task&task=<id>&as=admin|member|viewer&theme=light|dark
// Identities are devhost's dev users; the choice is sent as Paca's session cookie.
import { Component, type ReactNode, StrictMode, Suspense, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { loadComponent, sharedGets } from "./loader";

const REMOTE = "/plugins/com.paca.github/assets/remoteEntry.js";

/** Mirrors devhost/src/seed.rs `dev_identities()`. */
const IDENTITIES = {
  admin: { token: "dev-admin", label: "dev-admin — project admin", actions: ["*"] },
  member: { token: "dev-member", label: "dev-member — tasks:read, tasks:write", actions: ["tasks:read", "tasks:write"] },
  viewer: { token: "dev-viewer", label: "dev-viewer — tasks:read", actions: ["tasks:read"] },
} as const;
type Who = keyof typeof IDENTITIES;

const holds = (who: Who, action: string) => IDENTITIES[who].actions.some((a) => a === "*" || a === action);

interface CoreTask {
  id: string;
  task_number: number;
  title: string;
}
interface CoreProject {
  id: string;
  name: string;
  task_id_prefix: string;
}

const SHELL_CSS = `
html, body { margin: 0; }
body { background: #f6f6f7; color: #18181b; font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 14px; }
html.dark body { background: #0b0b0d; color: #e4e4e7; }
.ds-top { display: flex; align-items: center; gap: 16px; flex-wrap: wrap; padding: 10px 20px; background: #ffffff; border-bottom: 1px solid #e4e4e7; }
html.dark .ds-top { background: #131316; border-color: #27272a; }
.ds-brand { font-weight: 700; letter-spacing: -0.02em; }
.ds-brand small { font-weight: 500; color: #71717a; margin-left: 6px; }
.ds-nav { display: flex; gap: 4px; }
.ds-nav a { padding: 6px 10px; border-radius: 6px; color: inherit; text-decoration: none; }
.ds-nav a[aria-current="page"] { background: #ececee; font-weight: 600; }
html.dark .ds-nav a[aria-current="page"] { background: #27272a; }
.ds-controls { margin-left: auto; display: flex; gap: 10px; align-items: center; }
.ds-controls select, .ds-controls button { font: inherit; color: inherit; background: transparent; border: 1px solid #d4d4d8; border-radius: 6px; padding: 4px 8px; }
html.dark .ds-controls select, html.dark .ds-controls button { border-color: #3f3f46; }
html.dark .ds-controls option { background: #18181b; }
.ds-main { max-width: 860px; margin: 24px auto; padding: 0 20px; }
.ds-crumbs { color: #71717a; font-size: 13px; margin-bottom: 6px; }
.ds-h1 { font-size: 22px; font-weight: 650; margin: 0 0 16px; letter-spacing: -0.02em; }
.ds-tabs { display: flex; gap: 18px; border-bottom: 1px solid #e4e4e7; margin-bottom: 20px; font-size: 13px; }
html.dark .ds-tabs { border-color: #27272a; }
.ds-tabs span { padding: 8px 0; color: #71717a; }
.ds-tabs span[aria-current] { color: inherit; font-weight: 600; border-bottom: 2px solid currentColor; }
.ds-panel { background: #ffffff; border: 1px solid #e4e4e7; border-radius: 12px; padding: 20px; }
html.dark .ds-panel { background: #131316; border-color: #27272a; }
.ds-panel h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: #71717a; margin: 24px 0 12px; }
.ds-desc { color: #52525b; margin: 0; }
html.dark .ds-desc { color: #a1a1aa; }
.ds-failed { border: 1px solid #dc2626; color: #dc2626; border-radius: 8px; padding: 10px 12px; }
.ds-note { color: #71717a; font-size: 12.5px; margin-top: 12px; }
`;

function injectShellStyles() {
  if (document.getElementById("devshell-styles")) return;
  const el = document.createElement("style");
  el.id = "devshell-styles";
  el.textContent = SHELL_CSS;
  document.head.appendChild(el);
}

class Boundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  override componentDidCatch(error: unknown) {
    console.error("plugin failed to load", error);
  }
  override render() {
    return this.state.failed ? <div className="ds-failed">plugin failed to load</div> : this.props.children;
  }
}

/** Like Paca's <ExtensionPoint>: error boundary + Suspense around the lazy remote component. */
function Extension({ component, props }: { component: string; props: Record<string, unknown> }) {
  const Comp = loadComponent(REMOTE, component);
  return (
    <Boundary>
      <Suspense fallback={<div className="ds-note">Loading plugin…</div>}>
        <Comp {...props} />
      </Suspense>
    </Boundary>
  );
}

async function core<T>(path: string): Promise<T> {
  const res = await fetch(`/api/v1${path}`, { credentials: "include" });
  const body = (await res.json()) as { success: boolean; data: T; error?: string };
  if (!res.ok || !body.success) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body.data;
}

function params() {
  const q = new URLSearchParams(location.search);
  const who = (q.get("as") ?? "admin") as Who;
  return {
    project: q.get("project") ?? "",
    view: q.get("view") === "task" ? "task" : "settings",
    task: q.get("task") ?? "",
    who: who in IDENTITIES ? who : "admin",
    dark: q.get("theme") === "dark",
  } as const;
}

function href(change: Record<string, string>) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(change)) q.set(k, v);
  return `?${q.toString()}`;
}

function Shell() {
  const p = params();
  const [project, setProject] = useState<CoreProject | null>(null);
  const [tasks, setTasks] = useState<CoreTask[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!p.project) return;
    Promise.all([core<CoreProject>(`/projects/${p.project}`), core<{ items: CoreTask[] }>(`/projects/${p.project}/tasks`)])
      .then(([proj, list]) => {
        setProject(proj);
        setTasks(list.items);
      })
      .catch((e: unknown) => setError(String(e)));
  }, [p.project]);

  if (!p.project) return <main className="ds-main">Open the shell URL that <code>cargo xtask dev</code> prints (it names the project).</main>;
  if (error) return <main className="ds-main ds-failed">Could not load the project: {error}</main>;
  if (!project) return <main className="ds-main ds-note">Loading…</main>;
  const task = tasks.find((t) => t.id === p.task) ?? tasks[0];
  const key = (t: CoreTask) => `${project.task_id_prefix}-${t.task_number}`;

  return (
    <>
      <header className="ds-top">
        <span className="ds-brand">
          Paca<small>dev shell</small>
        </span>
        <nav className="ds-nav" aria-label="Views">
          <a href={href({ view: "settings" })} aria-current={p.view === "settings" ? "page" : undefined}>
            Project settings
          </a>
          {tasks.map((t) => (
            <a key={t.id} href={href({ view: "task", task: t.id })} aria-current={p.view === "task" && task?.id === t.id ? "page" : undefined}>
              {key(t)}
            </a>
          ))}
        </nav>
        <div className="ds-controls">
          <label>
            Signed in as{" "}
            <select aria-label="Identity" value={p.who} onChange={(e) => location.assign(href({ as: e.target.value }))}>
              {(Object.keys(IDENTITIES) as Who[]).map((w) => (
                <option key={w} value={w}>
                  {IDENTITIES[w].label}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => location.assign(href({ theme: p.dark ? "light" : "dark" }))}>
            {p.dark ? "Light" : "Dark"} mode
          </button>
        </div>
      </header>
      <main className="ds-main">
        {p.view === "settings" ? (
          <>
            <div className="ds-crumbs">{project.name} / Settings</div>
            <h1 className="ds-h1">Project settings</h1>
            <div className="ds-tabs" aria-hidden="true">
              <span>General</span>
              <span>Members</span>
              <span aria-current="true">GitHub</span>
            </div>
            <div data-testid="settings-mount">
              <Extension component="GitHubSettingsTab" props={{ projectId: project.id, canEdit: holds(p.who, "github:manage") }} />
            </div>
            <p className="ds-note">
              Paca shows this tab only to callers with github:manage (the manifest's requiredPermission) and then passes
              canEdit=true; the shell mounts it for every identity with canEdit = “holds github:manage”, so the read-only
              rendering can be tried.
            </p>
          </>
        ) : task ? (
          <>
            <div className="ds-crumbs">
              {project.name} / {key(task)}
            </div>
            <h1 className="ds-h1">{task.title}</h1>
            <div className="ds-panel">
              <p className="ds-desc">Task {key(task)} of the demo project. The GitHub section below is the plugin's.</p>
              <h2>GitHub</h2>
              <div data-testid="task-mount">
                <Extension
                  key={task.id}
                  component="GitHubTaskSection"
                  props={{ projectId: project.id, taskId: task.id, canEdit: holds(p.who, "tasks:write") }}
                />
              </div>
            </div>
          </>
        ) : (
          <main className="ds-main">The project has no tasks.</main>
        )}
      </main>
    </>
  );
}

const initial = params();
document.cookie = `access_token=${IDENTITIES[initial.who].token}; path=/; SameSite=Lax`;
document.documentElement.classList.toggle("dark", initial.dark);
injectShellStyles();
(window as unknown as { __devShell: unknown }).__devShell = { sharedGets };
createRoot(document.getElementById("app")!).render(
  <StrictMode>
    <Shell />
  </StrictMode>,
);
