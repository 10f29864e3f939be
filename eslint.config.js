import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'coverage/**', '**/*.cjs', '.bench-baseline/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // A braceless if/for body stays on its line; once the formatter wraps it, it gets braces.
      curly: ['error', 'multi-line'],
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'skip', message: 'A skipped test does not count as passing.' },
        { object: 'it', property: 'only', message: 'Focused tests hide the rest of the suite.' },
        { object: 'describe', property: 'skip', message: 'A skipped test does not count as passing.' },
        { object: 'describe', property: 'only', message: 'Focused tests hide the rest of the suite.' },
        { object: 'test', property: 'skip', message: 'A skipped test does not count as passing.' },
        { object: 'test', property: 'only', message: 'Focused tests hide the rest of the suite.' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/aws/**', 'src/stripe/**', 'src/store/**', 'src/notify/**', 'src/github/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/*', 'stripe', '@actions/*'],
              message: 'Domain modules take adapters as arguments; SDKs live in src/aws, src/stripe, src/store, src/notify and src/github.',
            },
            {
              group: ['**/aws/*', '**/stripe/*', '**/store/*', '**/notify/*', '**/github/*'],
              message:
                "Domain modules never import an adapter: records, rules and ports live in the domain (src/records, src/notifications.ts, a folder's ports.ts) and adapters implement them.",
            },
          ],
        },
      ],
    },
  },
);
