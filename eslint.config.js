// Lint rules for the whole repository, including the layer boundaries of docs/architecture.md.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const noCodeGeneration = [
  { selector: "NewExpression[callee.name='Function']", message: 'Never generate code (STYLE.md).' },
  { selector: "CallExpression[callee.name='eval']", message: 'Never eval (STYLE.md).' },
];

const drivers = ['mongoose', 'mongodb', 'ioredis'];

/**
 * One layer boundary, enforced on every way a module can be reached: static `import` / `export ... from`
 * (type-only ones too), dynamic `import()`, `import('...')` types and `require()` (e.g. through createRequire).
 * `packages` are bare specifiers (a package or its subpaths); `folders` are repository folders, matched in
 * relative specifiers.
 */
function boundary({ files, ignores = [], packages = [], folders = [], message }) {
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  const alternatives = [
    ...packages.map((name) => `^${escape(name)}(\\u002F|$)`),
    ...folders.map((folder) => `(^|\\u002F)${escape(folder)}(\\u002F|\\.js$|$)`),
  ];
  const pattern = `/${alternatives.join('|')}/`;
  return {
    files,
    ignores,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: packages.map((name) => ({ name, message })),
          patterns: [
            ...(packages.length ? [{ group: packages.map((name) => `${name}/*`), message }] : []),
            ...(folders.length
              ? [
                  {
                    group: folders.flatMap((folder) => [`**/${folder}`, `**/${folder}.js`, `**/${folder}/**`]),
                    message,
                  },
                ]
              : []),
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        ...noCodeGeneration,
        { selector: `ImportExpression[source.value=${pattern}]`, message },
        { selector: `TSImportType[argument.literal.value=${pattern}]`, message },
        { selector: `CallExpression[callee.name='require'][arguments.0.value=${pattern}]`, message },
        {
          selector: "ImportExpression[source.type!='Literal']",
          message: 'Import a literal specifier, so the layer check can see it.',
        },
      ],
    },
  };
}

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
      'no-restricted-syntax': ['error', ...noCodeGeneration],
    },
  },
  // 1. The core: framework-free and driver-free. The CLI (src/cli) is the layer on top and may load anything.
  boundary({
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    packages: ['express', ...drivers, 'supertest', 'helmet', 'prom-client', 'express-rate-limit'],
    folders: ['middleware', 'stores', 'app'],
    message: 'src/ is the framework-free core: no Express, no database driver, nothing from middleware/ or stores/.',
  }),
  // 2. The stores implement src/contracts/ with the drivers; they know nothing of Express.
  boundary({
    files: ['stores/**/*.ts'],
    packages: ['express', 'supertest'],
    folders: ['middleware', 'app'],
    message: 'stores/ must not depend on Express or import middleware/.',
  }),
  // 3. The Express layer sees stores only through their contracts (src/contracts/).
  boundary({
    files: ['middleware/**/*.ts'],
    packages: drivers,
    folders: ['stores', 'app'],
    message: 'middleware/ uses store contracts (src/contracts/), never a concrete store or a driver.',
  }),
  // The root entry point loads no driver and names no driver type; backends have their own entry points.
  boundary({
    files: ['index.ts'],
    packages: drivers,
    folders: ['stores/mongodb', 'stores/redis', 'stores/connections', 'stores/create-stores'],
    message: 'The root entry loads no driver: MongoDB and Redis live in portcullis/mongodb, portcullis/redis.',
  }),
  // createPortcullis is in the root: it reaches the backends only through createStores' dynamic imports.
  boundary({
    files: ['app/**/*.ts'],
    packages: drivers,
    folders: ['stores/mongodb', 'stores/redis', 'stores/connections'],
    message: 'app/ is in the root entry: no driver, and the backends only through createStores.',
  }),
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
