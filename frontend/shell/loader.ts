// Loads a plugin component the way Paca's web app does (apps/web/src/lib/plugins/loader.tsx):
// a share scope on globalThis.__federation_shared__.default with exactly react, react-dom
// (version key 19.0.0) and @tanstack/react-query (5.0.0); import() the remote entry as an ES
// module, take `default ?? module`, require `init` and `get`, init(shareScope), get("./X"), call
// the factory, accept a module with `default` or the component itself.
import * as ReactQuery from "@tanstack/react-query";
import * as React from "react";
import type { ComponentType } from "react";
import * as ReactDOM from "react-dom";

type Factory = () => Promise<unknown>;
interface SharedEntry {
  get: () => Promise<Factory>;
  version: string;
}
type ShareScope = Record<string, Record<string, SharedEntry>>;
interface Container {
  init: (scope: ShareScope) => unknown;
  get: (name: string) => Promise<() => unknown>;
}

/** How often the remote asked the share scope for each module (the e2e test reads it). */
export const sharedGets: Record<string, number> = {};

function entry(name: string, version: string, mod: unknown): Record<string, SharedEntry> {
  return {
    [version]: {
      version,
      get: () => {
        sharedGets[name] = (sharedGets[name] ?? 0) + 1;
        return Promise.resolve(() => Promise.resolve(mod));
      },
    },
  };
}

function shareScope(): ShareScope {
  const g = globalThis as unknown as { __federation_shared__?: Record<string, ShareScope> };
  g.__federation_shared__ ??= {};
  g.__federation_shared__.default = {
    react: entry("react", "19.0.0", React),
    "react-dom": entry("react-dom", "19.0.0", ReactDOM),
    "@tanstack/react-query": entry("@tanstack/react-query", "5.0.0", ReactQuery),
  };
  return g.__federation_shared__.default;
}

const containers = new Map<string, Promise<Container>>();
const components = new Map<string, React.LazyExoticComponent<ComponentType<Record<string, unknown>>>>();

async function container(url: string): Promise<Container> {
  const mod = (await import(/* @vite-ignore */ url)) as { default?: unknown };
  const c = (mod.default ?? mod) as Partial<Container>;
  if (typeof c.init !== "function" || typeof c.get !== "function") {
    throw new Error(`${url} does not export a valid container`);
  }
  await c.init(shareScope());
  return c as Container;
}

export function loadComponent(url: string, component: string) {
  const key = `${url}#${component}`;
  let lazy = components.get(key);
  if (!lazy) {
    lazy = React.lazy(async () => {
      let c = containers.get(url);
      if (!c) {
        c = container(url);
        containers.set(url, c);
      }
      const factory = await (await c).get(`./${component}`);
      const mod = factory() as { default?: ComponentType<Record<string, unknown>> } | ComponentType<Record<string, unknown>>;
      const Comp = (typeof mod === "object" && mod !== null && "default" in mod ? mod.default : mod) as ComponentType<Record<string, unknown>>;
      return { default: Comp };
    });
    components.set(key, lazy);
  }
  return lazy;
}
