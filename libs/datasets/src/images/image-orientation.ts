/** A box in fractions of an image's width and height. */
export interface FractionBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Whether an image with this EXIF orientation is stored sideways (its width and height swap when shown). */
export function isStoredSideways(orientation: number): boolean {
  return orientation >= 5 && orientation <= 8;
}

/** Where a point of the stored pixels (fractions) shows once the EXIF orientation is applied. */
function shownPoint(orientation: number, u: number, v: number): [number, number] {
  switch (orientation) {
    case 2:
      return [1 - u, v];
    case 3:
      return [1 - u, 1 - v];
    case 4:
      return [u, 1 - v];
    case 5:
      return [v, u];
    case 6:
      return [1 - v, u];
    case 7:
      return [1 - v, 1 - u];
    case 8:
      return [v, 1 - u];
    default:
      return [u, v];
  }
}

/**
 * A box drawn on an image's stored pixels (as a tool that ignores the EXIF orientation shows them) to the same box on
 * the upright image, the frame the api's boxes are in.
 */
export function boxShownUpright<T extends FractionBox>(box: T, orientation: number): T {
  const [ax, ay] = shownPoint(orientation, box.x, box.y);
  const [bx, by] = shownPoint(orientation, box.x + box.width, box.y + box.height);
  return {
    ...box,
    x: Math.min(ax, bx),
    y: Math.min(ay, by),
    width: Math.abs(bx - ax),
    height: Math.abs(by - ay),
  };
}
