import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, startConsole, signUp } from '../support/browser.js';

describe('console: accounts and projects', () => {
  let harness: ConsoleHarness;

  beforeAll(async () => {
    harness = await startConsole();
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('signs up, creates, renames and deletes a project with confirmation, logs out and back in', async () => {
    const page = await harness.newPage();
    await page.goto('/');
    await page.waitForURL('**/login');
    // The login page is there to type in: the cursor waits in Username.
    await expect(page.evaluate("document.activeElement?.getAttribute('name')")).resolves.toBe('username');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    // The first Tab stop skips to the page's content here too: its target is on this page.
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    await expect(skip.evaluate((link) => link === link.ownerDocument.activeElement)).resolves.toBe(true);
    await expect(
      skip.evaluate((link) => link.ownerDocument.querySelector(link.getAttribute('href')!)?.tagName ?? null),
    ).resolves.toBe('MAIN');
    // The heading shows before the project list has loaded: wait for the empty list's message.
    await page.getByText('No projects yet').waitFor();

    await page.getByLabel('Project name').fill('Fruit');
    await page.getByLabel('Detection (boxes around objects)').check();
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: /Fruit/ }).waitFor();
    await expect(page.locator('h1 .badge').textContent()).resolves.toBe('detection');
    // The project's address shortened to /projects lists the projects, not 'Not found'.
    await page.goto('/projects');
    await page.getByRole('link', { name: 'Fruit' }).click();
    await page.getByRole('heading', { name: /Fruit/ }).waitFor();

    await page.getByRole('link', { name: 'Settings' }).click();
    const rename = page.getByRole('button', { name: 'Rename' });
    // Rename waits for a new name; 'Renamed.' is said until the name is edited again.
    await expect(rename.isDisabled()).resolves.toBe(true);
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Fruit bowl');
    await rename.click();
    await page.getByRole('heading', { name: /Fruit bowl/ }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Renamed.' }).waitFor();
    await expect(rename.isDisabled()).resolves.toBe(true);
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Fruit bowls');
    await page.getByText('Renamed.').waitFor({ state: 'detached' });
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Fruit bowl');

    await page.getByRole('button', { name: 'Delete this project…' }).click();
    const confirm = page.getByRole('button', { name: 'Delete for good' });
    await expect(confirm.isDisabled()).resolves.toBe(true);
    await page.getByRole('form', { name: 'Confirm deletion' }).getByLabel('Project name').fill('Fruit bowl');
    await confirm.click();
    await page.getByText('No projects yet').waitFor();

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL('**/login');
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('shows every form error as a readable message and keeps what was typed', async () => {
    const page = await harness.newPage();
    await page.goto('/signup');
    await page.getByLabel('Username').fill('bo');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Sign up' }).click();
    const signUpError = await page.getByRole('alert').textContent();
    // Each field's problem in words, first: not how many fields the request had wrong.
    expect(signUpError).toMatch(/^Use at least 3 characters for the username\./);
    expect(signUpError).not.toMatch(/request|invalid field/);
    expect(signUpError).toMatch(
      /Use at least 8 characters for the password \(this server may ask for more\): a few words make a good one\. Common passwords and one character repeated are refused too\./,
    );
    await expect(page.getByLabel('Username').inputValue()).resolves.toBe('bo');

    await page.goto('/login');
    await page.getByLabel('Username').fill('nobody');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/username or password/i);
    // A password shorter than sign-up allows is as wrong as any: not told with the sign-up rules.
    await page.getByLabel('Password').fill('short');
    const refused = page.waitForResponse((response) => response.url().endsWith('/v1/auth/login'));
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(refused.then((response) => response.status())).resolves.toBe(400);
    await page.getByRole('alert').waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Wrong username or password.');

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill('grace');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await page.getByRole('button', { name: 'Create project' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe(
      'Give the project a name, for example "Cats and dogs".',
    );

    await page.getByLabel('Project name').fill('Pets');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: /Pets/ }).waitFor();
    // The new project's first step has the focus: typed at once, not after tabbing past the account links and tabs.
    await page.keyboard.type('dog');
    await expect(page.getByLabel('New label').inputValue()).resolves.toBe('dog');
    await page.getByLabel('New label').fill('');
    await page.getByRole('button', { name: 'Add label' }).click();
    await page.getByRole('alert').filter({ hasText: 'Type the label first, for example "cat".' }).waitFor();
    await page.getByLabel('New label').fill('cat');
    await page.getByRole('button', { name: 'Add label' }).click();
    // The label is listed (not merely named: the empty-name message above says "cat" too), and its field cleared.
    await page.getByRole('button', { name: 'Remove label cat' }).waitFor();
    await expect(page.getByLabel('New label').inputValue()).resolves.toBe('');
    await page.getByLabel('New label').fill('cat');
    await page.getByRole('button', { name: 'Add label' }).click();
    await page.getByRole('alert').filter({ hasText: 'The project already has a label named "cat".' }).waitFor();
    await expect(page.getByLabel('New label').inputValue()).resolves.toBe('cat');
    // The projects list counts the one label in the singular.
    await page.getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('listitem').filter({ hasText: 'Pets' }).getByText('1 label', { exact: true }).waitFor();

    expect(harness.problems([/status of (400|401|409)/])).toEqual([]);
  }, 60_000);

  it('creates a personal API token, shows it once with a copy button, and revokes it', async () => {
    const page = await harness.newPage();
    await signUp(page, 'scripter');
    await page.getByRole('link', { name: 'API tokens' }).click();
    // None yet: a sentence, not the headers of an empty table.
    await page.getByText('No tokens yet: create one above for a script or CI.').waitFor();
    await expect(page.getByRole('table').count()).resolves.toBe(0);
    await page.getByLabel('Token name').fill('laptop');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page
      .getByRole('group', { name: 'The token laptop, shown once' })
      .locator('code')
      .textContent())!;
    expect(token).toMatch(/^dml_/);
    await page.getByRole('button', { name: 'Copy token' }).click();
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(token);
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await harness.testApp.http.get('/v1/users/me').set('Authorization', `Bearer ${token}`).expect(200);

    await page.getByRole('button', { name: 'Revoke laptop' }).click();
    await page.getByRole('cell', { name: 'revoked' }).waitFor();
    await harness.testApp.http.get('/v1/users/me').set('Authorization', `Bearer ${token}`).expect(401);
    await page.reload();
    await page.getByRole('cell', { name: 'revoked' }).waitFor();
    await expect(page.getByText(token).count()).resolves.toBe(0);
    expect(harness.problems([/status of (400|401|409)/])).toEqual([]);
  }, 60_000);
});
