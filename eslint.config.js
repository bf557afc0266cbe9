// ESLint (flat config): JavaScript's and typescript-eslint's recommended rules, without type information (fast),
// and without the formatting rules prettier owns. Import boundaries are dependency-cruiser's (.dependency-cruiser.cjs).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'coverage/', 'data/', '.tools/', 'apps/console/dist/', 'apps/console/src/api/schema.d.ts']),
  js.configs.recommended,
  tseslint.configs.recommended,
  prettier,
  {
    rules: {
      // TypeScript checks names; plain JavaScript files here are small Node scripts.
      'no-undef': 'off',
      // Validation refuses control characters by matching them.
      'no-control-regex': 'off',
      // Flags a counter's last increment and a const used only by decorators.
      'no-useless-assignment': 'off',
      // `_name` marks a parameter kept for its position (Nest, callbacks); `{ omitted, ...rest }` drops a field.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
);
