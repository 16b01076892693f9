// The bundle Paca's MCP server imports (dist/mcp.js): its default export is the plugin's MCP
// entry, built from the tools generated out of spec/openapi.yaml.

import generated from "./generated/tools.json";
import { createEntry } from "./entry";

export { createEntry } from "./entry";
export { errorHints } from "./hints";
export type { PluginMCPContext, PluginMCPEntry, PluginToolResult } from "./entry";

const entry = createEntry(generated);
export default entry;
