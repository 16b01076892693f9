// What every exposed component shares: its own QueryClient (Paca passes none, and each mounted
// root must keep its own cache), the injected stylesheet, the `pgh` namespace element, and the
// API clients (built here because Paca passes no `api` to these extension points).
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createContext, type ReactNode, useContext, useInsertionEffect, useState } from "react";
import { createApi, type PluginApi } from "./api";
import { type CoreApi, createCoreApi } from "./core";
import { injectStyles } from "./styles";

export interface Clients {
  api: PluginApi;
  core: CoreApi;
}

const ClientsContext = createContext<Clients | null>(null);

export function useClients(): Clients {
  const c = useContext(ClientsContext);
  if (!c) throw new Error("GitHub plugin component rendered outside its PluginRoot");
  return c;
}

export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: 1, staleTime: 30_000, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  });
}

export function PluginRoot({ children, clients, queryClient }: { children: ReactNode; clients?: Clients; queryClient?: QueryClient }) {
  const [qc] = useState(() => queryClient ?? newQueryClient());
  const [c] = useState<Clients>(() => clients ?? { api: createApi(), core: createCoreApi() });
  useInsertionEffect(() => injectStyles(), []);
  return (
    <QueryClientProvider client={qc}>
      <ClientsContext.Provider value={c}>
        <div className="pgh">{children}</div>
      </ClientsContext.Provider>
    </QueryClientProvider>
  );
}
