import { describe, expect, it } from "vitest";
import { slugify, suggestBranchName, taskKey, withBranchType } from "./branchName";

describe("branch name suggestion", () => {
  it("is <type>/<PREFIX>-<number>-<slug>", () => {
    expect(suggestBranchName("feat", "demo", 12, "Add the Login page!")).toBe("feat/DEMO-12-add-the-login-page");
  });
  it("uses only the number when the project has no prefix", () => {
    expect(taskKey("", 5)).toBe("5");
    expect(suggestBranchName("fix", " ", 5, "Crash")).toBe("fix/5-crash");
  });
  it("drops the slug when the title has no letters or digits", () => {
    expect(suggestBranchName("chore", "P", 1, "¿¡ !?")).toBe("chore/P-1");
  });
  it("slugs: lower case, accents folded, runs of other characters become one dash, at most 30 characters", () => {
    expect(slugify("  Über   café -- déjà vu  ")).toBe("uber-cafe-deja-vu");
    const long = slugify("a very long task title that keeps going and going");
    expect(long.length).toBeLessThanOrEqual(30);
    expect(long).toBe("a-very-long-task-title-that-ke");
    expect(slugify("ends with a dash after the cut xx")).not.toMatch(/-$/);
  });
  it("switching the type rewrites only the part before the first slash", () => {
    expect(withBranchType("feat/DEMO-1-x/y", "docs")).toBe("docs/DEMO-1-x/y");
    expect(withBranchType("DEMO-1", "test")).toBe("test/DEMO-1");
  });
});
