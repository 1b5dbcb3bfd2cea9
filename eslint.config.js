// Lint rules for the whole repository, including the layer boundaries of DESIGN.md.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const driverImports = ['express', 'mongoose', 'mongodb', 'ioredis', 'supertest'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Function']", message: 'Never generate code (STYLE.md).' },
        { selector: "CallExpression[callee.name='eval']", message: 'Never eval (STYLE.md).' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: driverImports.map((name) => ({
            name,
            message: 'src/ is framework-free: no Express or database driver.',
          })),
          patterns: [
            { group: ['**/middleware/**', '**/stores/**'], message: 'src/ must not import middleware/ or stores/.' },
          ],
        },
      ],
    },
  },
  {
    files: ['stores/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'express', message: 'stores/ must not depend on Express.' }],
          patterns: [{ group: ['**/middleware/**'], message: 'stores/ must not import middleware/.' }],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
