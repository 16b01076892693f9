import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ApiError, toApiError } from "./api";
import { ALL_ERROR_CODES, messageFor, PLUGIN_ERROR_CODES } from "./errors";

/** The ErrorCode enum as the spec declares it (the generated type is its compile-time twin). */
function specErrorCodes(): string[] {
  const spec = readFileSync(resolve(__dirname, "../../spec/openapi.yaml"), "utf8");
  const block = spec.slice(spec.indexOf("    ErrorCode:"));
  const enumBody = block.slice(block.indexOf("enum:") + 5, block.indexOf("x-error-status:"));
  return [...enumBody.matchAll(/- ([A-Z_]+)/g)].map((m) => m[1]!);
}

describe("error messages", () => {
  it("has a message for exactly the error codes the spec declares", () => {
    expect([...PLUGIN_ERROR_CODES].sort()).toEqual(specErrorCodes().sort());
  });

  it("gives every code its own human sentence", () => {
    const messages = ALL_ERROR_CODES.map(messageFor);
    for (const code of ALL_ERROR_CODES) {
      const m = messageFor(code);
      expect(m).toMatch(/^[A-Z].{10,}[.!]$/);
      expect(m).not.toContain(code); // a sentence, not the code again
    }
    expect(new Set(messages).size).toBe(messages.length);
  });

  it("maps the plugin's error envelope to a typed error with the code's message", () => {
    const e = toApiError(422, { success: false, error: "Bad credentials", error_code: "GITHUB_INVALID_TOKEN" });
    expect(e).toBeInstanceOf(ApiError);
    expect(e.code).toBe("GITHUB_INVALID_TOKEN");
    expect(e.status).toBe(422);
    expect(e.serverMessage).toBe("Bad credentials");
    expect(e.message).toContain("GitHub rejected the token");
  });

  it("maps the host's own envelopes (401, 403, password change)", () => {
    expect(toApiError(401, { success: false, error_code: "UNAUTHORIZED", error: "x", request_id: "r" }).code).toBe("UNAUTHORIZED");
    expect(toApiError(403, { success: false, error_code: "FORBIDDEN", error: "permission denied" }).message).toMatch(/permission/);
    expect(toApiError(403, { success: false, error_code: "PASSWORD_CHANGE_REQUIRED", error: "x" }).code).toBe("PASSWORD_CHANGE_REQUIRED");
  });

  it("falls back on the status when the body has no known code", () => {
    expect(toApiError(401, "<html>").code).toBe("UNAUTHORIZED");
    expect(toApiError(403, { error_code: "SOMETHING_NEW" }).code).toBe("FORBIDDEN");
    expect(toApiError(502, "Bad Gateway").code).toBe("GITHUB_UNAVAILABLE");
    expect(toApiError(500, undefined).code).toBe("INTERNAL_ERROR");
    expect(toApiError(418, {}).code).toBe("UNEXPECTED_RESPONSE");
  });
});
