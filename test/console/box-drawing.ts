import type { Page } from 'playwright-core';

/** Drags a box over the box editor's surface, in fractions of the image. */
export async function drawBox(page: Page, box: { x: number; y: number; width: number; height: number }) {
  await page.waitForFunction("(document.querySelector('.box-editor img')?.naturalHeight ?? 0) > 0");
  const surface = page.getByRole('application');
  await surface.scrollIntoViewIfNeeded();
  const bounds = (await surface.boundingBox())!;
  await page.mouse.move(bounds.x + box.x * bounds.width, bounds.y + box.y * bounds.height);
  await page.mouse.down();
  await page.mouse.move(
    bounds.x + (box.x + box.width) * bounds.width,
    bounds.y + (box.y + box.height) * bounds.height,
    { steps: 5 },
  );
  await page.mouse.up();
}

/** Removes every box of the editor with the keyboard: select it in the list of boxes, then Delete on the surface. */
export async function deleteEveryBox(page: Page) {
  const boxes = page.getByRole('list', { name: 'Boxes' }).getByRole('listitem');
  for (let count = await boxes.count(); count > 0; count -= 1) {
    await boxes.first().getByRole('button').click();
    await page.getByRole('application').focus();
    await page.keyboard.press('Delete');
    await page.waitForFunction(`document.querySelectorAll('[aria-label="Boxes"] > li').length === ${count - 1}`);
  }
}
