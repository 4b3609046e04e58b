// Type-aware lint plus the layer rule from STYLE.md: core imports nothing of ours; protocols,
// capture and policy import only core; nothing under protocols/ or policy/ imports node:*.
import tseslint from 'typescript-eslint';

const layer = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'tools/**', 'bench/data/**', '**/*.mjs', '**/*.js', 'web/dist/**', 'dist/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use an as-const object and a union (STYLE.md).' },
        { selector: 'TSModuleDeclaration', message: 'No namespaces (STYLE.md).' },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: layer(['../*', 'node:*'], 'core imports nothing of ours and no node:* (layer rule, STYLE.md)'),
  },
  {
    files: ['src/protocols/**/*.ts', 'src/policy/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: layer(
      [
        'node:*',
        '**/capture/**',
        '**/pipeline/**',
        '**/model/**',
        '**/store/**',
        '**/cli/**',
        '**/server/**',
        '**/detect/**',
        '**/export/**',
      ],
      'protocols/ and policy/ import only core and never node:* (layer rule, STYLE.md)',
    ),
  },
  {
    files: ['src/capture/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: layer(
      ['**/protocols/**', '**/pipeline/**', '**/model/**', '**/store/**', '**/cli/**', '**/server/**'],
      'capture/ imports only core (layer rule, STYLE.md)',
    ),
  },
  {
    files: ['src/model/**/*.ts', 'src/pipeline/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: layer(['**/cli/**', '**/server/**', '**/store/**'], 'lower layers never import cli/server/store'),
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
