import type { CSSProperties, ReactNode } from 'react';
import { useLabelColour } from './label-colours';

export interface DrawnBox {
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Predicted boxes carry their probability; expected (labelled) ones do not. */
  probability?: number;
}

/**
 * A picture with boxes drawn over it, positioned in fractions of its size, each in its label's colour: labelled
 * regions dashed, predictions solid with their probability. A box near the top edge has its caption inside, so it
 * never covers what is above.
 */
export function BoxesOverlay({
  children,
  expected = [],
  predicted = [],
  className = '',
  style,
}: {
  children: ReactNode;
  expected?: DrawnBox[];
  predicted?: DrawnBox[];
  className?: string;
  style?: CSSProperties;
}) {
  return (
    <div className={`overlay ${className}`} style={style}>
      {children}
      {expected.map((box, index) => (
        <Box key={`e${index}`} box={box} kind="expected-box" caption={box.label} />
      ))}
      {/* Least probable first, so where captions overlap the most probable one is drawn last, on top, readable. */}
      {[...predicted]
        .sort((a, b) => (a.probability ?? 0) - (b.probability ?? 0))
        .map((box, index) => (
          <Box
            key={`p${index}`}
            box={box}
            kind="predicted-box"
            caption={`${box.label} ${Math.round((box.probability ?? 0) * 100)}%`}
          />
        ))}
    </div>
  );
}

function Box({ box, kind, caption }: { box: DrawnBox; kind: string; caption: string }) {
  const colourOf = useLabelColour();
  return (
    <div
      className={`${kind}${box.y < 0.12 ? ' caption-inside' : ''}`}
      data-label={box.label}
      style={
        {
          left: `${box.x * 100}%`,
          top: `${box.y * 100}%`,
          width: `${box.width * 100}%`,
          height: `${box.height * 100}%`,
          '--label-colour': colourOf(box.label),
        } as CSSProperties
      }
    >
      <span>{caption}</span>
    </div>
  );
}
