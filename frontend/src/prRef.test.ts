import { describe, expect, it } from "vitest";
import { findRepo, parsePrRef } from "./prRef";

describe("PR reference parsing", () => {
  it("accepts a number, with or without #", () => {
    expect(parsePrRef("42")).toEqual({ kind: "number", number: 42 });
    expect(parsePrRef(" #7 ")).toEqual({ kind: "number", number: 7 });
  });
  it("accepts a GitHub pull request URL, also with a tab suffix", () => {
    expect(parsePrRef("https://github.com/demo-org/paca-demo/pull/3")).toEqual({ kind: "url", owner: "demo-org", repo: "paca-demo", number: 3 });
    expect(parsePrRef("https://github.com/a/b.c/pull/9/files")).toEqual({ kind: "url", owner: "a", repo: "b.c", number: 9 });
  });
  it("rejects everything else", () => {
    for (const bad of ["", "0", "-1", "1.5", "abc", "#", "99999999999", "https://github.com/a/b/issues/3", "https://github.com/a/b/pull/x", "ftp://github.com/a/b/pull/1", "github.com/a/b/pull/1"]) {
      expect(parsePrRef(bad), bad).toEqual({ kind: "invalid" });
    }
  });
  it("finds the linked repository case-insensitively", () => {
    const repos = [{ full_name: "Demo-Org/Paca-Demo", id: "r1" }];
    expect(findRepo(repos, "demo-org", "paca-demo")?.id).toBe("r1");
    expect(findRepo(repos, "demo-org", "other")).toBeUndefined();
  });
});
