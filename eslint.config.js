// The linter `make check` runs: type-aware rules that catch unused code and promises nobody awaits.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "generated/**", "console/dist/**", "**/*.js", "**/*.mjs"] },
  {
    files: ["src/**/*.ts", "codegen/**/*.ts", "test/**/*.ts", "examples/**/*.ts"],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true }],
      "@typescript-eslint/await-thenable": "error",
      "no-unreachable": "error",
      "no-fallthrough": "error",
    },
  },
);
