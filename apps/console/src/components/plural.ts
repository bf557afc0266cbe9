/** "1 image", "3 images": a count with its noun, plural by adding s. */
export const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
